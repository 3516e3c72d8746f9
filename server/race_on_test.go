//go:build race

package server

// slowdown is how many times longer a bound on a test's time is: the race
// detector makes the parsing of a hostile body five times slower and more.
const slowdown = 5
