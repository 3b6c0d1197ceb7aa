// Package redistest runs a real redis-server (Debian's package) on a free loopback port for tests, the way
// pkg/plugintest runs the simulator. Tests that need it skip when redis-server is not installed, unless the
// environment sets REDIS_REQUIRED (as .ci/run does), when they fail.
package redistest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Server is a redis-server process without persistence: a restart empties it, as a Redis without a volume would.
type Server struct {
	Addr string
	dir  string
	cmd  *exec.Cmd
}

// Start runs redis-server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("REDIS_REQUIRED") != "" {
			t.Fatal("redis-server is not installed (apt-get install redis-server)")
		}
		t.Skip("redis-server is not installed (apt-get install redis-server); .ci/run installs it")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	s := &Server{Addr: addr, dir: t.TempDir()}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	s.cmd = exec.Command("redis-server", // #nosec G204 -- a test's own server on a port it picked
		"--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--protected-mode", "no")
	if err := s.cmd.Start(); err != nil {
		return err
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", s.Addr); err == nil {
			_ = c.Close()
			return nil
		}
	}
	return fmt.Errorf("redis-server did not listen on %s", s.Addr)
}

// Stop ends the server (a SIGKILL: it keeps nothing).
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// Restart stops the server and starts an empty one on the same address.
func (s *Server) Restart(t testing.TB, down time.Duration) {
	t.Helper()
	s.Stop()
	time.Sleep(down)
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}
