//go:build linux

package fleetdb

import "net/http"

func netHTTPGet(url string) (*http.Response, error) { return http.Get(url) }
