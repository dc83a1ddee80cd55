package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
)

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// proc is a child process of the driver, killed with the driver if the driver dies.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

func startProc(name, logPath, bin string, args ...string) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	return p, nil
}

// stop sends sig and waits for the process to exit (SIGKILL after grace).
func (p *proc) stop(sig syscall.Signal, grace time.Duration) {
	if p == nil {
		return
	}
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// cpu is the CPU time (user and system) the process has used so far.
func (p *proc) cpu() (time.Duration, error) {
	pr, err := procfs.NewProc(p.cmd.Process.Pid)
	if err == nil {
		var st procfs.ProcStat
		if st, err = pr.Stat(); err == nil {
			return time.Duration(st.CPUTime() * float64(time.Second)), nil
		}
	}
	return 0, fmt.Errorf("%s CPU time: %w", p.name, err)
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// gatewayProc is the intake-gateway binary serving one config.
type gatewayProc struct {
	bin, cfg, log, base string
	p                   *proc
}

func (g *gatewayProc) start(ctx context.Context) error {
	p, err := startProc("gateway", g.log, g.bin, "serve", "--config", g.cfg)
	if err != nil {
		return err
	}
	g.p = p
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("the gateway exited at start; see %s", g.log)
		}
		if ready(ctx, g.base+"/readyz") {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the gateway was not ready within a minute; see %s", g.log)
}

func (g *gatewayProc) stop(sig syscall.Signal) {
	g.p.stop(sig, 30*time.Second)
}

func ready(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// caseSystemProc is scripts/fakecasesystem.
type caseSystemProc struct {
	base string
	p    *proc
	// admin talks to the admin endpoints: a fake that stops answering must fail the run, not
	// hang it.
	admin *http.Client
}

func startCaseSystem(ctx context.Context, bin, work, secret string) (*caseSystemProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p, err := startProc("fakecasesystem", filepath.Join(work, "fakecasesystem.log"), bin,
		"-listen", addr, "-secret", secret, "-quiet", "-delay", "3s")
	if err != nil {
		return nil, err
	}
	cs := &caseSystemProc{base: "http://" + addr, p: p, admin: &http.Client{Timeout: 30 * time.Second}}
	for range 100 {
		if res, err := http.Get(cs.base + "/admin/count"); err == nil {
			res.Body.Close()
			return cs, nil
		}
		if p.exited() || ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.stop(syscall.SIGKILL, time.Second)
	return nil, fmt.Errorf("the fake case system did not start; see %s", filepath.Join(work, "fakecasesystem.log"))
}

func (cs *caseSystemProc) setMode(mode string) error {
	res, err := cs.admin.Post(cs.base+"/admin/mode?m="+mode, "", nil)
	if err != nil {
		return fmt.Errorf("case system mode %s: %w", mode, err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("case system mode %s: %s", mode, res.Status)
	}
	return nil
}

// received is one delivery the fake case system accepted (scripts/fakecasesystem's Received).
type received struct {
	Key        string `json:"key"`
	Event      string `json:"event"`
	Delivery   string `json:"delivery"`
	ID         string `json:"id"`
	CaseNo     string `json:"case_no"`
	ChannelID  string `json:"channel_id"`
	ExternalID string `json:"external_id"`
}

func (cs *caseSystemProc) received() ([]received, error) {
	res, err := cs.admin.Get(cs.base + "/admin/received")
	if err != nil {
		return nil, fmt.Errorf("case system deliveries: %w", err)
	}
	defer res.Body.Close()
	var out []received
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var r received
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("case system deliveries: %w", err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// portTaken reports whether something listens on addr.
func portTaken(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
