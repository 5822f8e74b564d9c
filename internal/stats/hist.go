package stats

import (
	"math"
	"sort"
	"strconv"
	"time"
)

// Durations are kept as histograms with logarithmic buckets, which add up
// across days and organisations (a percentile does not). Bucket b holds
// the durations d (in whole seconds) with 2^(b/16) <= d < 2^((b+1)/16);
// bucket -1 holds 0. A percentile is read as the geometric middle of its
// bucket, 2^((b+0.5)/16), which is within 2^(1/32)-1 = 2.19 % of every
// duration in the bucket: the reported median and p90 are within 2.19 %
// of the exact nearest-rank median and p90 (docs/metrics.md).
const bucketsPerOctave = 16

// MaxRelativeError bounds the relative error of a percentile read from a
// histogram (2^(1/32) - 1).
var MaxRelativeError = math.Pow(2, 1/(2.0*bucketsPerOctave)) - 1

// DurationBucket returns the histogram bucket of a duration; negative durations
// count as 0.
func DurationBucket(d time.Duration) int {
	s := int64(d / time.Second)
	if s <= 0 {
		return -1
	}
	b := int(math.Floor(bucketsPerOctave * math.Log2(float64(s))))
	// Guard the float edges so that lower(b) <= s < lower(b+1) holds exactly.
	for b > 0 && lowerBound(b) > float64(s) {
		b--
	}
	for lowerBound(b+1) <= float64(s) {
		b++
	}
	return b
}

func lowerBound(b int) float64 { return math.Pow(2, float64(b)/bucketsPerOctave) }

// BucketValue is the duration a bucket stands for: the geometric middle of
// its bounds, rounded to the second.
func BucketValue(b int) time.Duration {
	if b < 0 {
		return 0
	}
	return time.Duration(math.Round(math.Pow(2, (float64(b)+0.5)/bucketsPerOctave))) * time.Second
}

// Histogram counts durations by bucket.
type Histogram map[int]int64

// Add counts n durations of bucket b.
func (h Histogram) Add(b int, n int64) {
	h[b] += n
	if h[b] == 0 {
		delete(h, b)
	}
}

// Count is the number of durations counted.
func (h Histogram) Count() int64 {
	var n int64
	for _, c := range h {
		n += c
	}
	return n
}

// Quantile returns the nearest-rank q-quantile (0 < q <= 1): the bucket
// value of the ceil(q·n)-th smallest duration; false when empty.
func (h Histogram) Quantile(q float64) (time.Duration, bool) {
	n := h.Count()
	if n <= 0 {
		return 0, false
	}
	rank := int64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	bs := make([]int, 0, len(h))
	for b := range h {
		bs = append(bs, b)
	}
	sort.Ints(bs)
	var seen int64
	for _, b := range bs {
		seen += h[b]
		if seen >= rank {
			return BucketValue(b), true
		}
	}
	return BucketValue(bs[len(bs)-1]), true
}

func bucketKey(d time.Duration) string { return strconv.Itoa(DurationBucket(d)) }
