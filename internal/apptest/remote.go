package apptest

import "testing"

// Remote is a Site served elsewhere (an app process, a load balancer in
// front of several) at url: its clients work as on a Site of Serve; it has
// no Server, so Raw is not for it.
func Remote(t testing.TB, url string) *Site { return &Site{t: t, URL: url} }
