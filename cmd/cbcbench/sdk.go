package main

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
)

//go:embed sdk.py
var sdkScript string

// sdkProcess is a Python process running the official SDK against the simulator's HTTPS address (the SDK
// refuses plain http). It stays up between runs, so interpreter start-up and imports are not measured.
type sdkProcess struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startSDK(python, httpsURL string, span timeSpan) (*sdkProcess, error) {
	if httpsURL == "" {
		return nil, fmt.Errorf("the simulator serves no HTTPS address for the SDK")
	}
	cmd := exec.Command(python, "-c", sdkScript, httpsURL, orgKey, apiSecret+"/"+apiID, span.startISO(), span.endISO())
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (is carbon-black-cloud-sdk installed? scripts/bench.sh installs it): %w", python, err)
	}
	s := &sdkProcess{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	if !s.out.Scan() || s.out.Text() != "ready" {
		s.stop()
		return nil, fmt.Errorf("the SDK script did not start (%q); is carbon-black-cloud-sdk installed in %s?", s.out.Text(), python)
	}
	return s, nil
}

// run runs one task and returns the records the SDK got. An SDK failure is an incomplete result, not an error
// of the benchmark: the table shows how far it got.
func (s *sdkProcess) run(task string) (int, error) {
	if _, err := fmt.Fprintln(s.in, task); err != nil {
		return 0, err
	}
	if !s.out.Scan() {
		return 0, fmt.Errorf("the SDK script ended: %v", s.out.Err())
	}
	var result struct {
		Records int    `json:"records"`
		Error   string `json:"error"`
	}
	if err := json.Unmarshal(s.out.Bytes(), &result); err != nil {
		return 0, fmt.Errorf("the SDK script answered %q: %w", s.out.Text(), err)
	}
	if result.Error != "" {
		return result.Records, incomplete(result.Error)
	}
	return result.Records, nil
}

func (s *sdkProcess) stop() {
	_ = s.in.Close()
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}
