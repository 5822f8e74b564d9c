//go:build reliability

package reliability

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/s3fake"
)

// TestReliabilityScaleOut is T10: two API processes (CERTDESK_WORKERS=
// false) and two `certdesk worker` processes on one database, evidence
// in an S3 store (internal/s3fake in the test process); under load one
// API process and one worker are killed with SIGKILL half-way and the
// clients of the dead API turn to the other, as a load balancer would.
// Nothing acknowledged is lost, no playbook step runs twice, and evidence
// uploaded through one API process downloads through the other.
func TestReliabilityScaleOut(t *testing.T) {
	h := newHarness(t)
	s3 := s3fake.New(t)
	o := s3.Options
	for k, v := range map[string]string{
		"CERTDESK_BLOB_BACKEND": "s3", "CERTDESK_S3_ENDPOINT": o.Endpoint, "CERTDESK_S3_BUCKET": o.Bucket,
		"CERTDESK_S3_REGION": o.Region, "CERTDESK_S3_ACCESS_KEY": o.AccessKey, "CERTDESK_S3_SECRET_KEY": o.SecretKey,
		"CERTDESK_S3_TLS": "false", "CERTDESK_S3_PATH_STYLE": "true",
	} {
		h.env[k] = v
	}
	token := h.demoToken("reporter@city-northbridge.demo")
	h.env["CERTDESK_PLAYBOOK_DIR"] = h.writePlaybook("reliability", reliabilityPlaybook)
	apiOnly := map[string]string{"CERTDESK_WORKERS": "false"}
	api := []*proc{h.serve("api1", apiOnly), h.serve("api2", apiOnly)}
	workerEnv := map[string]string{"CERTDESK_LOG_LEVEL": "info"}
	workers := []*proc{h.worker("worker1", workerEnv), h.worker("worker2", workerEnv)}

	var api1Dead atomic.Bool
	base := func(c int) string {
		if c%2 == 0 && !api1Dead.Load() {
			return api[0].URL()
		}
		return api[1].URL()
	}
	duration := pick(20*time.Second, 60*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	done := make(chan *loadResult)
	go func() { done <- runLoad(ctx, 8, token, "T10", base) }()

	// Evidence through API 1 while both run.
	time.Sleep(duration / 4)
	inc := h.reportVia(api[0].URL(), token, "T10 evidence", "other")
	var files []uploaded
	for i := 0; i < 3; i++ {
		files = append(files, h.upload(api[0].URL(), token, inc, fmt.Sprintf("evidence-%d.bin", i), 64<<10+i))
	}
	time.Sleep(duration / 4)
	api[0].kill()
	api1Dead.Store(true)
	workers[0].kill()
	res := <-done

	acked := h.checkReports(res)
	took, notes := h.waitWorkDone(3 * time.Minute)
	for _, f := range files {
		got := h.download(api[1].URL(), token, inc, f.id)
		if sum := sha256.Sum256(got); hex.EncodeToString(sum[:]) != f.sha256 {
			t.Errorf("%s: downloaded through API 2 with SHA-256 %x, uploaded through API 1 as %s", f.id, sum, f.sha256)
		}
	}
	_, dup, extra := h.slack.counts()
	if dup > 0 {
		t.Errorf("%d messages reached Slack more than once (%d extra posts)", dup, extra)
	}
	t.Logf("T10: 2 API + 2 worker processes, 1 API and 1 worker killed half-way: %d acknowledged reports, 0 lost, no playbook step twice, %d duplicated deliveries, %d of %d files uploaded through API 1 downloaded intact through API 2 (%d retried requests; %d notifications of the reports; work done %s after the kills' load ended)",
		acked, dup, len(files), len(files), res.retries.Load(), notes, took.Round(time.Second))
}

// uploaded is an attachment the test uploaded.
type uploaded struct{ id, sha256 string }

// reportVia creates one report of category through base and returns its
// ID.
func (h *harness) reportVia(base, token, title, category string) string {
	h.t.Helper()
	r := &reporter{token: token, client: &http.Client{Timeout: 30 * time.Second}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, _, err := r.post(ctx, func() string { return base }, "rel-"+randomHex(6), title, category)
	if err != nil {
		h.t.Fatalf("report through %s: %v", base, err)
	}
	return id
}

// upload sends size random bytes as an attachment of incident inc
// through base.
func (h *harness) upload(base, token, inc, name string, size int) uploaded {
	h.t.Helper()
	data := make([]byte, size)
	_, _ = rand.Read(data)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		h.t.Fatal(err)
	}
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/incidents/"+inc+"/attachments", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		h.t.Fatalf("upload %s: %v", name, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		h.t.Fatalf("upload %s: %d %s", name, resp.StatusCode, b)
	}
	var out struct{ ID, SHA256 string }
	if err := json.Unmarshal(b, &out); err != nil {
		h.t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if out.SHA256 != hex.EncodeToString(sum[:]) {
		h.t.Fatalf("upload %s: the API says SHA-256 %s, the bytes are %x", name, out.SHA256, sum)
	}
	return uploaded{id: out.ID, sha256: out.SHA256}
}

// download returns the content of attachment att of incident inc
// through base.
func (h *harness) download(base, token, inc, att string) []byte {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/incidents/"+inc+"/attachments/"+att+"/content", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		h.t.Fatalf("download %s: %v", att, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("download %s: %d %s", att, resp.StatusCode, b)
	}
	return b
}
