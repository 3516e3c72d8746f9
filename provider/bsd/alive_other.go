//go:build !unix

package bsd

// processAlive cannot tell on this system.
func processAlive(int) (alive, known bool) { return false, false }
