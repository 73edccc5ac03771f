package adminsock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Who may be at either end of the admin socket. It carries new passwords
// (user passwd) and whole copies of the database (backup), so the CLI must
// know it talks to the server and the server that it talks to an operator.
// The socket's mode 0600 does not say that by itself: in a directory other
// users can write, one of them can bind the socket's name before the
// server does (a sticky /tmp only stops them from removing ours, not from
// taking a name that does not exist yet). So:
//   - both sides refuse a socket in a directory group or others can write;
//   - the CLI connects only to a socket file owned by its own effective uid
//     or root, and only if the process listening on it runs as one of those
//     (SO_PEERCRED, asked after connecting and before sending anything);
//   - the server creates the socket only where nothing foreign sits, and
//     serves only connections from its own uid and root.
// Root is trusted on both sides because it could read the database anyway.
// So root running the CLI does not use a socket of the server's own user:
// it is told to run the command as that user (sudo -u), as the systemd
// unit's comment already does. Only the socket's own directory is checked,
// not its parents: a database belongs in a directory of its own, such as
// the unit's /var/lib/portal.

// UntrustedError says why the CLI would not use the admin socket.
// Nothing was sent when it is returned.
type UntrustedError struct{ path, why, fix string }

func (e *UntrustedError) Error() string {
	return fmt.Sprintf("refusing to use the admin socket %s (nothing was sent to it): %s; %s", e.path, e.why, e.fix)
}

// errPeerUnchecked means this system cannot tell who is at the other end of
// a Unix socket; the file checks then stand alone.
var errPeerUnchecked = errors.New("peer credentials are not available on this system")

// sharedDir reports whether users other than dir's owner may create files in
// it, and its mode for the message (sticky bit included, as ls shows it).
func sharedDir(dir string) (mode uint32, shared bool, err error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return 0, false, err
	}
	mode = uint32(fi.Mode().Perm())
	if fi.Mode()&os.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode, mode&0o022 != 0, nil
}

// fileOwner is the uid that owns the file fi describes.
func fileOwner(fi os.FileInfo) uint32 { return fi.Sys().(*syscall.Stat_t).Uid }

// userName is uid's login name, or the number when it has none.
func userName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username
	}
	return "#" + id // as sudo -u takes a bare uid
}

// describeUID names a uid for a message: "uid 1001 (mallory)".
func describeUID(uid uint32) string {
	if name := userName(uid); name[0] != '#' {
		return fmt.Sprintf("uid %d (%s)", uid, name)
	}
	return fmt.Sprintf("uid %d", uid)
}

// ownOrRoot trusts the caller's effective uid and root.
func ownOrRoot(uid uint32) bool { return uid == uint32(os.Geteuid()) || uid == 0 }

// dial connects to the admin socket at path after checking that its
// directory is not shared, that the socket file belongs to a trusted uid and
// that the process listening on it runs as one. trusted is ownOrRoot except
// in tests, which cannot become another user. Every refusal is an
// *UntrustedError; a missing socket or a refused connection is the
// dialer's own error, meaning no server answers.
func dial(ctx context.Context, path string, trusted func(uint32) bool) (net.Conn, error) {
	dir := filepath.Dir(path)
	mode, shared, err := sharedDir(dir)
	if err != nil {
		return nil, err
	}
	if shared {
		return nil, &UntrustedError{path,
			fmt.Sprintf("its directory %s is writable by other users (mode %04o), so anyone could have put it there", dir, mode),
			fmt.Sprintf("run 'chmod go-w %s' (or move the database to a directory only its owner can write) and restart the server", dir)}
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return nil, &UntrustedError{path,
			fmt.Sprintf("it is not a socket (%s)", fi.Mode().Type()),
			"find out what put it there, move it aside and restart the server"}
	}
	if owner := fileOwner(fi); !trusted(owner) {
		return nil, &UntrustedError{path,
			fmt.Sprintf("it belongs to %s; you are %s, and only sockets of your own or root's are trusted", describeUID(owner), describeUID(uint32(os.Geteuid()))),
			fmt.Sprintf("if that is the server's own user, run the command as that user (for example with sudo -u %s); if not, someone else is listening there to catch what the CLI sends: stop the server, remove the socket and start the server again", userName(owner))}
	}
	c, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	uid, err := peerUID(c)
	switch {
	case errors.Is(err, errPeerUnchecked):
	case err != nil:
		c.Close()
		return nil, &UntrustedError{path, fmt.Sprintf("cannot tell who is listening on it (%v)", err), "report this as a bug"}
	case !trusted(uid):
		c.Close()
		return nil, &UntrustedError{path,
			fmt.Sprintf("the process listening on it runs as %s; you are %s, and only processes of your own or root's are trusted", describeUID(uid), describeUID(uint32(os.Geteuid()))),
			"someone else is listening there to catch what the CLI sends: stop the server, remove the socket and start the server again"}
	}
	return c, nil
}

// preparePath makes path free for the server's admin socket, or says
// why the server must not create one there. A socket of our own is left by
// a crashed server and replaced: we hold the database lock, so no other
// server of ours can be using it. Anything else is left alone.
func preparePath(path string) error {
	dir := filepath.Dir(path)
	mode, shared, err := sharedDir(dir)
	if err != nil {
		return err
	}
	if shared {
		return fmt.Errorf("the directory %s is writable by other users (mode %04o), so another user could take the socket's name first and catch the passwords and backups sent over it; run 'chmod go-w %s' (or move the database to a directory only its owner can write) and restart the server", dir, mode, dir)
	}
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&os.ModeSocket == 0:
		return fmt.Errorf("%s already exists and is not a socket (%s); move it aside and restart the server", path, fi.Mode().Type())
	case fileOwner(fi) != uint32(os.Geteuid()):
		return fmt.Errorf("%s already exists and belongs to %s, not to this server's %s; someone else may be listening there to catch what the CLI sends: find out who created it, remove it and restart the server", path, describeUID(fileOwner(fi)), describeUID(uint32(os.Geteuid())))
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// peerCheckedListener hands out only connections from processes whose uid
// allowed accepts; others are closed before a byte is read from them.
type peerCheckedListener struct {
	net.Listener
	allowed func(uint32) bool
	log     *slog.Logger
}

// Accept returns the next allowed connection. It loops rather than return
// an error for a refused one, which would stop http.Server.Serve.
func (l peerCheckedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, err := peerUID(c)
		if errors.Is(err, errPeerUnchecked) || err == nil && l.allowed(uid) {
			return c, nil
		}
		if err != nil {
			l.log.Warn("admin socket: refused a connection whose user cannot be told", "err", err)
		} else {
			l.log.Warn("admin socket: refused a connection from another user", "uid", uid)
		}
		c.Close()
	}
}
