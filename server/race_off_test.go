//go:build !race

package server

// slowdown is how many times longer a bound on a test's time is (see
// race_on_test.go).
const slowdown = 1
