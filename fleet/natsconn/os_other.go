//go:build !windows

package natsconn

const isWindows = false
