// Package deps pins the modules the project uses until each is imported by real code.
package deps
import (
 _ "github.com/spf13/cobra"
 _ "github.com/fsnotify/fsnotify"
 _ "modernc.org/sqlite"
 _ "github.com/prometheus/client_golang/prometheus"
 _ "golang.org/x/sys/unix"
 _ "golang.org/x/crypto/bcrypt"
 _ "golang.org/x/term"
)
