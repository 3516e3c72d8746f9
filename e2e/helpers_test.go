//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// cimsessTimeout bounds one run of the binary: a hang is a failure.
const cimsessTimeout = time.Minute

// runCimsess runs the binary TestMain built with args, in "/", and returns
// what it printed and its exit code. It fails the test only when the
// program cannot be started or runs longer than cimsessTimeout.
func runCimsess(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCimsessEnv(t, nil, args...)
}

// runCimsessEnv is runCimsess with extra environment variables
// ("TZ=UTC"), added to the test's own environment.
func runCimsessEnv(t testing.TB, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	if cimsessBin == "" {
		t.Fatal("e2e: no cimsess binary (TestMain did not build it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), cimsessTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, cimsessBin, args...)
	cmd.Dir = "/"
	if env != nil {
		cmd.Env = append(cmd.Environ(), env...)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("cimsess %s: no answer within %v\nstderr: %s", strings.Join(args, " "), cimsessTimeout, errOut.String())
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("cimsess %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// jsonInstance is one instance as `cimsess -o json` prints it; numbers
// are json.Number.
type jsonInstance map[string]any

// cimsessJSON runs cimsess with args and "-o json" and returns the
// instances it printed. Anything but exit code 0 fails the test.
func cimsessJSON(t testing.TB, args ...string) []jsonInstance {
	t.Helper()
	return cimsessJSONEnv(t, nil, args...)
}

// cimsessJSONEnv is cimsessJSON with extra environment variables.
func cimsessJSONEnv(t testing.TB, env []string, args ...string) []jsonInstance {
	t.Helper()
	args = append(append([]string(nil), args...), "-o", "json")
	stdout, stderr, code := runCimsessEnv(t, env, args...)
	if code != 0 {
		t.Fatalf("cimsess %s: exit %d\nstderr: %s", strings.Join(args, " "), code, stderr)
	}
	insts, err := decodeInstances(stdout)
	if err != nil {
		t.Fatalf("cimsess %s: %v\nstdout: %.2000s", strings.Join(args, " "), err, stdout)
	}
	return insts
}

// decodeInstances decodes `-o json` output: an array of instances, or one
// instance.
func decodeInstances(s string) ([]jsonInstance, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	raw = bytes.TrimSpace(raw)
	var insts []jsonInstance
	if len(raw) > 0 && raw[0] == '{' {
		insts = make([]jsonInstance, 1)
		raw = append(append([]byte{'['}, raw...), ']')
	}
	dec = json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&insts); err != nil {
		return nil, fmt.Errorf("not a JSON array of instances: %w", err)
	}
	return insts, nil
}

// Str returns a property as text: "" for NULL or a missing property,
// numbers in decimal.
func (in jsonInstance) Str(prop string) string {
	v, ok := in[prop]
	if !ok || v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// IsNull reports whether the property is NULL or missing.
func (in jsonInstance) IsNull(prop string) bool { return in[prop] == nil }

// Time returns a datetime property as a time, false when it is NULL or
// not a CIM point in time.
func (in jsonInstance) Time(prop string) (time.Time, bool) {
	s := in.Str(prop)
	if s == "" {
		return time.Time{}, false
	}
	dt, err := cim.ParseDateTime(s)
	if err != nil || dt.IsInterval() {
		return time.Time{}, false
	}
	return dt.Time()
}

// where returns the instances whose property prop has the text want
// (compared as Str does, exactly).
func where(insts []jsonInstance, prop, want string) []jsonInstance {
	var out []jsonInstance
	for _, in := range insts {
		if in.Str(prop) == want {
			out = append(out, in)
		}
	}
	return out
}

// waitFor calls cond every 100 ms until it returns true, and fails the
// test with what when timeout passes first.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
