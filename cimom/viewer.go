package cimom

import (
	"context"

	"github.com/cimsess/cimsess/cim"
)

// Viewer is who an operation is done for. An administrator sees every
// instance; anyone else sees only the instances whose Owner is their own
// user name. The zero Viewer is an administrator: the local command line
// runs with the rights of its user, and the OS's own file permissions
// already bound what it can read.
type Viewer struct {
	User       string
	Restricted bool // true for a user who is not an administrator
}

type viewerKey struct{}

// WithViewer returns a context that carries the viewer.
func WithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// ViewerFrom returns the context's viewer, or an administrator if none.
func ViewerFrom(ctx context.Context) Viewer {
	v, _ := ctx.Value(viewerKey{}).(Viewer)
	return v
}

// CanSee reports whether the viewer may see the instance.
func (v Viewer) CanSee(in *cim.Instance) bool {
	if !v.Restricted {
		return true
	}
	// Exactly: Linux user names are case-sensitive, and SEC-B is not
	// sec-b.
	return in.Owner != "" && in.Owner == v.User
}
