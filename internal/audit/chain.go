package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
)

// The audit log is one hash chain (docs/reliability.md, "The audit log is
// tamper-evident"). Each row has a position, Seq (1, 2, 3, … with no
// gaps), and a Hash: SHA-256 of the Hash of the row before (Genesis
// before the first row) followed by the row's Encode. The database
// assigns both when the row is inserted (migrations/0033_audit_chain.sql);
// Verify recomputes them here, trusting nothing the database computed.

// Genesis is the hash "before" the first row: 32 zero bytes.
var Genesis = make([]byte, sha256.Size)

// ChainRow is an audit row as the chain sees it: every hashed column, in
// the text form the encoding uses.
type ChainRow struct {
	Seq int64
	ID  int64
	// AtMicros is the row's time in microseconds since 1970-01-01 UTC.
	AtMicros int64
	// ActorUserID is the lower-case UUID of the acting user, "" for none.
	ActorUserID string
	Actor       string
	Action      string
	TargetType  string
	TargetID    string
	RemoteAddr  string
	// Data is the row's jsonb data as PostgreSQL prints it (data::text).
	Data string
	// Hash is the hash stored in the row.
	Hash []byte
}

// Encode returns the canonical encoding of r (version 1): the netstrings
// ("<byte length>:<bytes>,") of Seq, ID, AtMicros, ActorUserID, Actor,
// Action, TargetType, TargetID, RemoteAddr and Data, in that order,
// integers in decimal, text in UTF-8.
func Encode(r ChainRow) []byte {
	var b bytes.Buffer
	for _, f := range []string{strconv.FormatInt(r.Seq, 10), strconv.FormatInt(r.ID, 10),
		strconv.FormatInt(r.AtMicros, 10), r.ActorUserID, r.Actor, r.Action, r.TargetType, r.TargetID,
		r.RemoteAddr, r.Data} {
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
		b.WriteByte(',')
	}
	return b.Bytes()
}

// Hash returns the hash a row r must carry after a row whose hash is
// prev: SHA-256(prev || Encode(r)).
func Hash(prev []byte, r ChainRow) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(Encode(r))
	return h.Sum(nil)
}

// ChainHead is the end of the chain as the database records it: the
// position and hash of the last row.
type ChainHead struct {
	Seq  int64
	Hash []byte
}

// FaultKind says how the chain breaks.
type FaultKind string

// The fault kinds.
const (
	// FaultHash: the row's hash does not match its content and the row
	// before it (the row, or the one before it, was changed).
	FaultHash FaultKind = "hash"
	// FaultMissing: positions before the row are missing (rows deleted).
	FaultMissing FaultKind = "missing"
	// FaultHead: the chain ends before, or differs from, the head the
	// database recorded (the last rows were deleted or changed).
	FaultHead FaultKind = "head"
)

// Fault is the first place where the chain does not match.
type Fault struct {
	Kind FaultKind
	// RowID and Seq name the first row that does not match; RowID is 0
	// for FaultHead when no row is there to name.
	RowID int64
	Seq   int64
	// Detail says what does not match, in a sentence.
	Detail string
}

// Key identifies the fault: an alert is raised once per key.
func (f Fault) Key() string { return fmt.Sprintf("%s/%d/%d", f.Kind, f.Seq, f.RowID) }

func (f Fault) String() string { return f.Detail }

// Verification is the outcome of walking the chain.
type Verification struct {
	// Rows is how many rows were checked.
	Rows int64
	// Head is the head the walk checked against.
	Head ChainHead
	// Fault is the first mismatch; nil when the chain is whole.
	Fault *Fault
}

// ChainReader reads the chain for Verify.
type ChainReader interface {
	// AuditChainHead returns the recorded head of the chain.
	AuditChainHead(ctx context.Context) (ChainHead, error)
	// AuditChain returns at most limit rows with after < Seq <= upTo, in
	// the order of Seq.
	AuditChain(ctx context.Context, after, upTo int64, limit int) ([]ChainRow, error)
}

// verifyBatch is how many rows Verify reads at once.
const verifyBatch = 1000

// Verify walks the whole chain up to the head recorded when it starts
// (rows appended meanwhile are left to the next walk) and returns the
// first row that does not match. An error is a failure to read, not a
// broken chain.
func Verify(ctx context.Context, r ChainReader) (Verification, error) {
	head, err := r.AuditChainHead(ctx)
	if err != nil {
		return Verification{}, fmt.Errorf("read the audit chain's head: %w", err)
	}
	v := Verification{Head: head}
	prev, last := Genesis, int64(0)
	for {
		rows, err := r.AuditChain(ctx, last, head.Seq, verifyBatch)
		if err != nil {
			return v, fmt.Errorf("read the audit chain after position %d: %w", last, err)
		}
		for _, row := range rows {
			if row.Seq != last+1 {
				v.Fault = &Fault{Kind: FaultMissing, RowID: row.ID, Seq: row.Seq, Detail: fmt.Sprintf(
					"audit row %d (position %d): positions %d to %d before it are missing (deleted)",
					row.ID, row.Seq, last+1, row.Seq-1)}
				return v, nil
			}
			if want := Hash(prev, row); !bytes.Equal(want, row.Hash) {
				v.Fault = &Fault{Kind: FaultHash, RowID: row.ID, Seq: row.Seq, Detail: fmt.Sprintf(
					"audit row %d (position %d): its hash %s does not match its content and the row before it (%s)",
					row.ID, row.Seq, short(row.Hash), short(want))}
				return v, nil
			}
			v.Rows++
			prev, last = row.Hash, row.Seq
		}
		if len(rows) < verifyBatch {
			break
		}
	}
	switch {
	case last < head.Seq:
		v.Fault = &Fault{Kind: FaultHead, Seq: last + 1, Detail: fmt.Sprintf(
			"audit positions %d to %d are missing (deleted): the chain ends at %d, its recorded head is %d",
			last+1, head.Seq, last, head.Seq)}
	case !bytes.Equal(prev, head.Hash):
		v.Fault = &Fault{Kind: FaultHead, Seq: last, Detail: fmt.Sprintf(
			"the audit chain's recorded head (position %d, %s) does not match its last row (%s)",
			head.Seq, short(head.Hash), short(prev))}
	}
	return v, nil
}

// short is the first 12 hex digits of a hash.
func short(h []byte) string {
	s := hex.EncodeToString(h)
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
