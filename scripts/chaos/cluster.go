package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// cluster is a PostgreSQL cluster of the suite's own, in a temporary directory on its own port,
// so that stopping it (a fault the suite injects) never touches the server other tests use.
//
// The postmaster runs as a child of the driver (not daemonized by pg_ctl) with a parent-death
// signal, so that it cannot outlive a driver that is killed; it is stopped with SIGQUIT, which
// is exactly what `pg_ctl stop -m immediate` sends: no checkpoint, crash recovery at the next
// start.
type cluster struct {
	bin  string // directory of initdb and postgres
	dir  string // data directory
	sock string // unix socket directory
	port int
	cred *syscall.Credential // the postgres user's, when the driver runs as root
	log  *os.File
	cmd  *exec.Cmd
	exit chan error
}

// findPGBin returns the bin directory of the newest PostgreSQL installed, or $PG_BIN.
func findPGBin() (string, error) {
	if dir := os.Getenv("PG_BIN"); dir != "" {
		return dir, nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
		return "", errors.New("no initdb found under /usr/lib/postgresql/*/bin or on PATH; set PG_BIN")
	}
	sort.Slice(found, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(found[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(found[j]))))
		return vi < vj
	})
	return filepath.Dir(found[len(found)-1]), nil
}

// newCluster runs initdb in a fresh directory under work. PostgreSQL refuses to run as root, so
// as root the cluster belongs to the postgres user.
func newCluster(work string, port int) (*cluster, error) {
	bin, err := findPGBin()
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin, dir: filepath.Join(work, "pgdata"), sock: filepath.Join(work, "pgsock"), port: port}
	for _, d := range []string{c.dir, c.sock} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("cluster directory: %w", err)
		}
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs a postgres user to own the cluster: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		// The postgres user must reach its directories through the work directory.
		if err := os.Chmod(work, 0o755); err != nil {
			return nil, fmt.Errorf("work directory: %w", err)
		}
		for _, d := range []string{c.dir, c.sock} {
			if err := os.Chown(d, uid, gid); err != nil {
				return nil, fmt.Errorf("cluster directory owner: %w", err)
			}
		}
	}
	if c.log, err = os.Create(filepath.Join(work, "postgres.log")); err != nil {
		return nil, fmt.Errorf("cluster log: %w", err)
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", c.dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGKILL}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return c, nil
}

// URL is the connection string of database db.
func (c *cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// start starts the postmaster and waits until it accepts connections.
func (c *cluster) start(ctx context.Context) error {
	c.cmd = exec.Command(filepath.Join(c.bin, "postgres"), "-D", c.dir, "-p", strconv.Itoa(c.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+c.sock,
		"-c", "max_connections=200", "-c", "logging_collector=off")
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.exit = make(chan error, 1)
	go func(cmd *exec.Cmd, exit chan error) { exit <- cmd.Wait() }(c.cmd, c.exit)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-c.exit:
			c.cmd = nil
			return fmt.Errorf("postgres exited at start (%v); see %s", err, c.log.Name())
		default:
		}
		if conn, err := pgx.Connect(ctx, c.URL("postgres")); err == nil {
			conn.Close(ctx)
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("postgres did not accept connections within a minute; see %s", c.log.Name())
}

// stopImmediate stops the postmaster as `pg_ctl stop -m immediate` does (SIGQUIT) and waits for
// it to exit.
func (c *cluster) stopImmediate() error {
	if c.cmd == nil {
		return nil
	}
	if err := c.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		return fmt.Errorf("signal postgres: %w", err)
	}
	select {
	case <-c.exit:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exit
	}
	c.cmd = nil
	return nil
}

// createDB creates database name.
func (c *cluster) createDB(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to the private cluster: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}
