package snapcache

import (
	"errors"
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	t0 := time.Unix(1760000000, 0)
	reads := 0
	read := func() (int, error) { reads++; return reads, nil }
	var c Cache[int]
	for _, tc := range []struct {
		now   time.Time
		ttl   time.Duration
		want  int
		reads int
	}{
		{t0, Default, 1, 1},
		{t0.Add(100 * time.Millisecond), Default, 1, 1},            // fresh
		{t0.Add(Default), Default, 2, 2},                           // expired at exactly ttl
		{t0.Add(Default - time.Second), Default, 3, 3},             // the clock went back
		{t0.Add(Default - time.Second), -1, 4, 4},                  // no caching
		{t0.Add(Default - time.Second + 1), 0 * time.Second, 5, 5}, // ttl 0: none either
	} {
		got, err := c.Get(tc.now, tc.ttl, read)
		if err != nil || got != tc.want || reads != tc.reads {
			t.Errorf("Get(%v, %v) = %d, %v after %d reads; want %d after %d", tc.now.Sub(t0), tc.ttl, got, err, reads, tc.want, tc.reads)
		}
	}
	boom := errors.New("boom")
	if _, err := c.Get(t0.Add(time.Hour), Default, func() (int, error) { return 0, boom }); err != boom {
		t.Errorf("error not returned: %v", err)
	}
	if got, _ := c.Get(t0.Add(time.Hour), Default, read); got != 6 {
		t.Errorf("an error was cached: %d", got)
	}
	if For(0) != Default || For(-1) != -1 || For(time.Second) != time.Second {
		t.Error("For")
	}
}
