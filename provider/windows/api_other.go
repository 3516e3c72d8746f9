//go:build !windows

package windows

import (
	"context"

	"github.com/cimsess/cimsess/provider"
)

// systemAPI is, off Windows, an api that answers ErrNotImplemented.
func systemAPI() api { return noAPI{} }

type noAPI struct{}

func (noAPI) LogonSessions(context.Context) ([]LogonSessionData, int, error) {
	return nil, 0, provider.ErrNotImplemented
}
func (noAPI) ServerSessions(context.Context) ([]SessionInfo502, error) {
	return nil, provider.ErrNotImplemented
}
func (noAPI) ServerConnections(context.Context, string) ([]ConnectionInfo1, error) {
	return nil, provider.ErrNotImplemented
}
func (noAPI) TerminalSessions(context.Context) ([]WTSSession, error) {
	return nil, provider.ErrNotImplemented
}
