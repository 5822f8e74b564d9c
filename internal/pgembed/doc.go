// Package pgembed runs a PostgreSQL cluster from the PostgreSQL binaries
// installed on the local machine (initdb and postgres), without Docker and
// without a system service.
//
// It serves two purposes:
//
//   - The service's default mode when no DATABASE_URL is configured: a
//     persistent cluster in a data folder that keeps its data between runs.
//     Such a cluster runs with PostgreSQL's normal durable settings (fsync on).
//   - Tests: a throwaway cluster in a temporary folder, started with fast but
//     unsafe settings (fsync, synchronous_commit and full_page_writes off) and
//     removed again by [Cluster.Stop].
//
// [Start] initialises the data folder with initdb when it holds no cluster yet,
// picks a free TCP port on 127.0.0.1, runs postgres directly (not through
// pg_ctl, so the calling process owns the server process) and waits until the
// server accepts connections. The server listens on TCP only; no Unix socket is
// created, which avoids the length limit on socket paths. Connections use the
// superuser "postgres" with trust authentication, so the server must never
// listen on anything but the loopback address.
//
// The server's output is written to the file certdesk-postgres.log inside the
// data folder; when the server fails to start, the last lines of that file are
// included in the returned error.
//
// A server left behind by an earlier run whose owner was killed (for example
// with SIGKILL) is detected through the postmaster.pid file in the data folder
// and shut down before the new server starts.
//
// Both initdb and postgres refuse to run as root. When the calling process
// runs as root, the data folder is handed to the operating-system user
// "postgres" (created by the Debian postgresql package) and both programs run
// as that user.
//
// [FindBinDir] locates the binaries: the PG_BINDIR environment variable, then
// the highest version under /usr/lib/postgresql/*/bin (the Debian layout), then
// the PATH.
//
// The package targets Linux; on other systems the server is not tied to the
// lifetime of the calling process.
package pgembed
