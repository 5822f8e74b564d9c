package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/app"
	"github.com/certdesk/certdesk/internal/backup"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/s3fake"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// backupLoad sizes a backup-under-load run.
type backupLoad struct {
	clients int // concurrent API clients, each reporting and uploading
	before  int // incidents acknowledged before the backup starts
	after   int // more incidents acknowledged after it ends, at least
}

// backupFigures are what a run measured.
type backupFigures struct {
	ackedBefore, ackedTotal   int
	uploadsBefore             int
	incidents, evidenceRows   int64
	evidenceFiles, auditRows  int64
	backupTime, restoreTime   time.Duration
	restoredIncidents, audits int64
}

// ackRecord is what the clients were told before the backup began.
type ackRecord struct {
	mu          sync.Mutex
	incidents   []string
	attachments []string
	total       int
}

// runBackupUnderLoad posts reports and evidence through the API from
// several clients, takes `certdesk backup` while they run, restores the
// backup into a new database and evidence folder with `certdesk restore`,
// and checks the copy: `audit verify` passes, every incident and
// attachment acknowledged before the backup began is there, every
// attachment row has its file with the right hash. It returns the backup
// folder and the restored database's URL for further checks.
func runBackupUnderLoad(t *testing.T, load backupLoad) (backupFigures, string) {
	t.Helper()
	ctx := context.Background()
	h := testapp.New(t, testapp.Options{Playbooks: testapp.NoPlaybooks})
	h.Org("national", org.NationalCERT, "")
	h.Org("region", org.RegionalCERT, "national")
	h.Org("city", org.LocalAuthority, "region")
	u, reporter := h.User("city", access.Reporter)

	var started atomic.Bool // set just before the backup starts
	var stop atomic.Bool
	before, all := &ackRecord{}, &ackRecord{}
	shared := bkRandom(t, 4096) // uploaded again and again: one file, many rows
	var wg sync.WaitGroup
	errs := make(chan error, load.clients+1)
	for c := 0; c < load.clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				id, err := bkReport(h.URL, reporter, fmt.Sprintf("backup-load-%d-%d", c, i))
				if err != nil {
					errs <- err
					return
				}
				early := !started.Load()
				content := shared
				if i%3 != 0 {
					content = bkRandom(t, 1+(c*7919+i*104729)%32768)
				}
				att, err := bkUpload(h.URL, reporter, id, content)
				if err != nil {
					errs <- err
					return
				}
				earlyAtt := !started.Load()
				for _, r := range []*ackRecord{before, all} {
					if r == before && !early {
						continue
					}
					r.mu.Lock()
					r.incidents = append(r.incidents, id)
					if r == all || earlyAtt {
						r.attachments = append(r.attachments, att)
					}
					r.total++
					r.mu.Unlock()
				}
			}
		}()
	}
	// Audit rows written while the backup runs: API tokens for the reporter.
	wg.Add(1)
	go func() {
		defer wg.Done()
		pace := time.NewTicker(5 * time.Millisecond) // about 200 audit rows a second, beside the reports
		defer pace.Stop()
		for ; !stop.Load(); <-pace.C {
			if _, _, err := h.App.Identity.CreateToken(ctx, access.System, u.ID, "backup-load", nil); err != nil {
				errs <- err
				return
			}
		}
	}()
	count := func(r *ackRecord) int { r.mu.Lock(); defer r.mu.Unlock(); return r.total }
	waitFor := func(n int, what string) {
		deadline := time.After(2 * time.Minute)
		poll := time.NewTicker(10 * time.Millisecond)
		defer poll.Stop()
		for count(all) < n {
			select {
			case err := <-errs:
				t.Fatalf("load client: %v", err)
			case <-deadline:
				t.Fatalf("only %d of %d reports acknowledged %s", count(all), n, what)
			case <-poll.C:
			}
		}
	}
	waitFor(load.before, "before the backup")

	dir := filepath.Join(t.TempDir(), "backup")
	source := map[string]string{"DATABASE_URL": h.DBURL, "CERTDESK_BLOB_DIR": h.Config.BlobDir}
	started.Store(true)
	t0 := time.Now()
	e, out, errb := env(source, "backup", dir)
	require.NoError(t, app.Run(ctx, e), "stderr: %s", errb)
	backupTime := time.Since(t0)
	atBackupEnd := count(all)
	waitFor(atBackupEnd+load.after, "after the backup")
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Contains(t, out.String(), "backup "+dir+": snapshot ")
	m, err := backup.Verify(dir)
	require.NoError(t, err)

	// Restore into a new, empty database and a new folder.
	target := map[string]string{"DATABASE_URL": testdb.NewEmpty(t), "CERTDESK_BLOB_DIR": filepath.Join(t.TempDir(), "blobs")}
	t1 := time.Now()
	e, out, errb = env(target, "restore", dir)
	require.NoError(t, app.Run(ctx, e), "stderr: %s", errb)
	restoreTime := time.Since(t1)
	require.Contains(t, out.String(), "restored "+dir)

	e, out, errb = env(target, "audit", "verify")
	require.NoError(t, app.Run(ctx, e), "audit verify on the restored copy: %s %s", out, errb)
	ok := regexp.MustCompile(`^ok: (\d+) rows, head position (\d+),`).FindStringSubmatch(out.String())
	require.NotNil(t, ok, out.String())
	audits, _ := strconv.ParseInt(ok[1], 10, 64)
	require.Equal(t, m.AuditHead.Seq, bkInt(t, ok[2]), "the restored chain's head is the backup's")

	conn, err := pgx.Connect(ctx, target["DATABASE_URL"])
	require.NoError(t, err)
	defer conn.Close(ctx)
	var restored int64
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM incidents").Scan(&restored))
	require.Equal(t, m.Counts.Incidents, restored)
	var missing []string
	require.NoError(t, conn.QueryRow(ctx, "SELECT coalesce(array_agg(x), '{}') FROM unnest($1::uuid[]) x WHERE NOT EXISTS (SELECT 1 FROM incidents WHERE id = x)",
		before.incidents).Scan(&missing))
	require.Empty(t, missing, "incidents acknowledged before the backup began are missing")
	require.NoError(t, conn.QueryRow(ctx, "SELECT coalesce(array_agg(x), '{}') FROM unnest($1::uuid[]) x WHERE NOT EXISTS (SELECT 1 FROM incident_attachments WHERE id = x)",
		before.attachments).Scan(&missing))
	require.Empty(t, missing, "attachments acknowledged before the backup began are missing")
	rows, err := conn.Query(ctx, "SELECT sha256, size FROM incident_attachments")
	require.NoError(t, err)
	type att struct {
		Sum  string
		Size int64
	}
	atts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[att])
	require.NoError(t, err)
	require.EqualValues(t, m.Counts.EvidenceRows, len(atts))
	for _, a := range atts {
		b, err := os.ReadFile(filepath.Join(target["CERTDESK_BLOB_DIR"], "sha256", a.Sum[:2], a.Sum[2:4], a.Sum))
		require.NoError(t, err, "the restored attachment's file")
		sum := sha256.Sum256(b)
		require.Equal(t, a.Sum, hex.EncodeToString(sum[:]))
		require.EqualValues(t, a.Size, len(b))
	}
	return backupFigures{ackedBefore: len(before.incidents), ackedTotal: count(all), uploadsBefore: len(before.attachments),
		incidents: m.Counts.Incidents, evidenceRows: m.Counts.EvidenceRows, evidenceFiles: m.Counts.EvidenceFiles,
		auditRows: m.Counts.AuditRows, backupTime: backupTime, restoreTime: restoreTime,
		restoredIncidents: restored, audits: audits}, dir
}

// TestBackupUnderLoadRestoresAVerifiedCopy takes a backup while clients
// post reports and evidence, restores it, and checks the copy
// (runBackupUnderLoad); then damages the backup and sees it refused.
func TestBackupUnderLoadRestoresAVerifiedCopy(t *testing.T) {
	t.Parallel()
	f, dir := runBackupUnderLoad(t, backupLoad{clients: 3, before: 15, after: 5})
	t.Logf("backup under load: %d incidents acknowledged before it began, %d in the backup (%d acknowledged in all); %d evidence rows, %d files; %d audit rows verified on the restored copy",
		f.ackedBefore, f.incidents, f.ackedTotal, f.evidenceRows, f.evidenceFiles, f.audits)
	ctx := context.Background()

	t.Run("a damaged part is refused", func(t *testing.T) {
		m, err := backup.Verify(dir)
		require.NoError(t, err)
		require.NotEmpty(t, m.Evidence.Files)
		evidenceFile := filepath.Join("evidence", "sha256", m.Evidence.Files[0].SHA256[:2], m.Evidence.Files[0].SHA256[2:4], m.Evidence.Files[0].SHA256)
		for _, part := range []string{backup.DatabaseFile, evidenceFile, backup.ManifestFile} {
			restoreByte := bkFlipByte(t, filepath.Join(dir, part))
			target := map[string]string{"DATABASE_URL": testdb.NewEmpty(t), "CERTDESK_BLOB_DIR": filepath.Join(t.TempDir(), "blobs")}
			e, _, _ := env(target, "restore", dir)
			err := app.Run(ctx, e)
			var damaged *backup.DamagedError
			require.ErrorAs(t, err, &damaged, part)
			require.Equal(t, part, damaged.Part)
			require.ErrorContains(t, err, "is damaged: "+part)
			require.ErrorContains(t, err, "nothing was restored")
			bkRequireEmpty(t, target["DATABASE_URL"])
			_, err = os.Stat(target["CERTDESK_BLOB_DIR"])
			require.ErrorIs(t, err, os.ErrNotExist, "no evidence file was restored")
			e, _, _ = env(nil, "restore", "--verify-only", dir)
			require.ErrorAs(t, app.Run(ctx, e), &damaged)
			restoreByte()
		}
		e, out, _ := env(nil, "restore", "--verify-only", dir)
		require.NoError(t, app.Run(ctx, e))
		require.Contains(t, out.String(), "ok: backup")
	})

	t.Run("a database that is not empty is refused unless --replace", func(t *testing.T) {
		target := map[string]string{"DATABASE_URL": testdb.New(t), "CERTDESK_BLOB_DIR": filepath.Join(t.TempDir(), "blobs")}
		e, _, _ := env(target, "restore", dir)
		var notEmpty *backup.NotEmptyError
		require.ErrorAs(t, app.Run(ctx, e), &notEmpty)
		require.Equal(t, "database", notEmpty.What)
		e, out, errb := env(target, "restore", "--replace", dir)
		require.NoError(t, app.Run(ctx, e), "%s", errb)
		require.Contains(t, out.String(), "restored")
		e, _, _ = env(target, "audit", "verify")
		require.NoError(t, app.Run(ctx, e))
		// The folder now holds the files: a second restore without
		// --replace into an emptied database is refused for the folder.
		target["DATABASE_URL"] = testdb.NewEmpty(t)
		e, _, _ = env(target, "restore", dir)
		require.ErrorAs(t, app.Run(ctx, e), &notEmpty)
		require.Equal(t, "evidence folder", notEmpty.What)
	})

	t.Run("a backup from a newer certdesk is refused", func(t *testing.T) {
		manifest, sum := filepath.Join(dir, backup.ManifestFile), filepath.Join(dir, backup.ManifestSumFile)
		origM, err := os.ReadFile(manifest)
		require.NoError(t, err)
		origS, err := os.ReadFile(sum)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(origM, &m))
		known, err := backup.KnownMigration()
		require.NoError(t, err)
		m["migrations"].(map[string]any)["certdesk"] = known + 1
		b, err := json.Marshal(m)
		require.NoError(t, err)
		h := sha256.Sum256(b)
		for path, content := range map[string][]byte{manifest: b, sum: []byte(hex.EncodeToString(h[:]) + "  manifest.json\n")} {
			require.NoError(t, os.Chmod(path, 0o600))
			require.NoError(t, os.WriteFile(path, content, 0o600))
		}
		target := map[string]string{"DATABASE_URL": testdb.NewEmpty(t), "CERTDESK_BLOB_DIR": filepath.Join(t.TempDir(), "blobs")}
		e, _, _ := env(target, "restore", dir)
		require.ErrorContains(t, app.Run(ctx, e), fmt.Sprintf("is at certdesk migration %d and this certdesk knows migrations up to %d", known+1, known))
		bkRequireEmpty(t, target["DATABASE_URL"])
		require.NoError(t, os.WriteFile(manifest, origM, 0o600))
		require.NoError(t, os.WriteFile(sum, origS, 0o600))
	})

	t.Run("the backup folder must be new or empty", func(t *testing.T) {
		e, _, _ := env(nil, "backup", dir)
		require.ErrorContains(t, app.Run(ctx, e), "is not empty")
	})
}

// bkRequireEmpty checks that a database still has no table.
func bkRequireEmpty(t *testing.T, dbURL string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var n int
	require.NoError(t, conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n))
	require.Zero(t, n, "the refused restore left tables behind")
}

// bkFlipByte changes one byte in the middle of a file and returns a function
// that puts it back.
func bkFlipByte(t *testing.T, path string) func() {
	t.Helper()
	require.NoError(t, os.Chmod(path, 0o600))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	i := len(b) / 2
	b[i] ^= 0x01
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return func() {
		b[i] ^= 0x01
		require.NoError(t, os.WriteFile(path, b, 0o600))
	}
}

func bkRandom(t testing.TB, n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func bkInt(t *testing.T, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err)
	return v
}

// bkReport reports an incident through the API and returns its ID once
// it is acknowledged (201).
func bkReport(base, token, key string) (string, error) {
	body, _ := json.Marshal(map[string]any{"title": "Backup load " + key, "tlp": "amber"})
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/incidents", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	return bkCreated(req)
}

// bkUpload attaches content to an incident and returns the
// attachment's ID once it is acknowledged (201).
func bkUpload(base, token, incident string, content []byte) (string, error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	part, err := w.CreateFormFile("file", "evidence.bin")
	if err != nil {
		return "", err
	}
	_, _ = part.Write(content)
	if err := w.Close(); err != nil {
		return "", err
	}
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/incidents/"+incident+"/attachments", &b)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	return bkCreated(req)
}

func bkCreated(req *http.Request) (string, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	var v struct{ ID string }
	if err := json.Unmarshal(body, &v); err != nil || v.ID == "" {
		return "", errors.Join(errors.New("no id in the answer"), err)
	}
	return v.ID, nil
}

// TestBackupAndRestoreEmbedded backs up the embedded database (no
// DATABASE_URL, CERTDESK_DATA_DIR) into one file (.tar) and restores it;
// a damaged file is refused, naming it.
func TestBackupAndRestoreEmbedded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// The embedded server may run as user postgres (under root), which
	// must be able to enter the data folder's parent.
	d, err := os.MkdirTemp("", "cdbackup")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(d, 0o711))
	t.Cleanup(func() { _ = os.RemoveAll(d) })
	src := map[string]string{"CERTDESK_DATA_DIR": d}
	e, _, errb := env(src, "org", "create", "--slug", "national", "--name", "National CERT", "--kind", "national_cert")
	require.NoError(t, app.Run(ctx, e), "%s", errb)
	file := filepath.Join(t.TempDir(), "certdesk.tar")
	e, out, errb := env(src, "backup", file)
	require.NoError(t, app.Run(ctx, e), "%s", errb)
	require.Contains(t, out.String(), "0 incidents")
	entries, err := os.ReadDir(filepath.Dir(file))
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the file is left beside it")
	e, out, _ = env(nil, "restore", "--verify-only", file)
	require.NoError(t, app.Run(ctx, e))
	require.Contains(t, out.String(), "ok: backup "+file)

	// Restoring into an embedded database differs only in how the database
	// is opened (the same as for backup); an external one is cheaper here.
	dst := map[string]string{"DATABASE_URL": testdb.NewEmpty(t), "CERTDESK_BLOB_DIR": filepath.Join(t.TempDir(), "blobs")}
	e, out, errb = env(dst, "restore", file)
	require.NoError(t, app.Run(ctx, e), "%s", errb)
	require.Contains(t, out.String(), "restored "+file)
	e, out, errb = env(dst, "audit", "verify")
	require.NoError(t, app.Run(ctx, e), "%s", errb)
	require.Regexp(t, `^ok: [1-9]\d* rows`, out.String(), "the organisation's audit row came along")

	bkFlipByte(t, file)
	e, _, _ = env(dst, "restore", "--replace", file)
	var damaged *backup.DamagedError
	require.ErrorAs(t, app.Run(ctx, e), &damaged)
	require.Equal(t, file, damaged.Dir)
}

// TestBackupAndRestoreWithObjectStore backs up a certdesk whose evidence
// is in an S3-compatible store: the referenced objects are copied into the
// backup and restored into another bucket; with --skip-evidence they stay
// in the bucket and only the database is restored.
func TestBackupAndRestoreWithObjectStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, dst := s3fake.New(t), s3fake.New(t)
	s3env := func(s *s3fake.Server, dbURL string) map[string]string {
		return map[string]string{"DATABASE_URL": dbURL, "CERTDESK_BLOB_BACKEND": "s3", "CERTDESK_S3_ENDPOINT": s.Options.Endpoint,
			"CERTDESK_S3_BUCKET": s.Options.Bucket, "CERTDESK_S3_REGION": s.Options.Region, "CERTDESK_S3_ACCESS_KEY": s.Options.AccessKey,
			"CERTDESK_S3_SECRET_KEY": s.Options.SecretKey, "CERTDESK_S3_TLS": "false", "CERTDESK_S3_PATH_STYLE": "true", "CERTDESK_S3_PREFIX": "certdesk/"}
	}
	h := testapp.New(t, testapp.Options{Playbooks: testapp.NoPlaybooks, Config: func(c *config.Config) {
		c.BlobBackend = config.BackendS3
		c.S3 = config.S3{Endpoint: src.Options.Endpoint, Bucket: src.Options.Bucket, Region: src.Options.Region,
			AccessKey: src.Options.AccessKey, SecretKey: src.Options.SecretKey, PathStyle: true, Prefix: "certdesk/"}
	}})
	h.Org("national", org.NationalCERT, "")
	h.Org("city", org.LocalAuthority, "national")
	_, reporter := h.User("city", access.Reporter)
	for i := range 3 {
		id, err := bkReport(h.URL, reporter, fmt.Sprintf("s3-%d", i))
		require.NoError(t, err)
		_, err = bkUpload(h.URL, reporter, id, bkRandom(t, 1000+i))
		require.NoError(t, err)
	}
	require.Len(t, src.Keys(t), 3)

	dir := filepath.Join(t.TempDir(), "backup")
	e, _, errb := env(s3env(src, h.DBURL), "backup", dir)
	require.NoError(t, app.Run(ctx, e), "%s", errb)
	m, err := backup.Verify(dir)
	require.NoError(t, err)
	require.Equal(t, "s3", m.Evidence.Backend)
	require.True(t, m.Evidence.Included)
	require.Len(t, m.Evidence.Files, 3)

	e, _, errb = env(s3env(dst, testdb.NewEmpty(t)), "restore", dir)
	require.NoError(t, app.Run(ctx, e), "%s", errb)
	require.Equal(t, src.Keys(t), dst.Keys(t), "the objects are in the other bucket")

	skip := filepath.Join(t.TempDir(), "skip")
	e, out, errb := env(s3env(src, h.DBURL), "backup", "--skip-evidence", skip)
	require.NoError(t, app.Run(ctx, e), "%s", errb)
	require.Contains(t, out.String(), "left in the object store")
	m, err = backup.Verify(skip)
	require.NoError(t, err)
	require.False(t, m.Evidence.Included)
	require.Len(t, m.Evidence.Files, 3, "the manifest lists the files it left out")
	_, err = os.Stat(filepath.Join(skip, backup.EvidenceDir))
	require.ErrorIs(t, err, os.ErrNotExist)
	e, out, errb = env(s3env(src, testdb.NewEmpty(t)), "restore", skip)
	require.NoError(t, app.Run(ctx, e), "%s", errb)
	require.Contains(t, out.String(), "must still be in the object store")

	e, _, _ = env(map[string]string{"DATABASE_URL": h.DBURL}, "backup", "--skip-evidence", filepath.Join(t.TempDir(), "x"))
	require.ErrorIs(t, app.Run(ctx, e), app.ErrUsage, "--skip-evidence only with the object store")
}
