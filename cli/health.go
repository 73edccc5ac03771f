package cli

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// cmdHealth asks a running server whether it is up. It exists for
// container health checks: distroless images have no shell or curl, and
// this needs neither, nor the database lock.
func cmdHealth(c *cli, args []string) error {
	fs := c.bareFlagSet()
	target := fs.String("url", healthURL(c.getenv("PORTAL_ADDR")), "the URL to GET; 200 means healthy [default from $PORTAL_ADDR]")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	if !strings.HasPrefix(*target, "http://") && !strings.HasPrefix(*target, "https://") {
		return usagef("-url must start with http:// or https://, got %q", *target)
	}
	client := &http.Client{Timeout: *timeout}
	res, err := client.Get(*target)
	if err != nil {
		return fmt.Errorf("the portal at %s did not answer: %v", *target, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("the portal at %s answered %s: %s", *target, res.Status, strings.Join(strings.Fields(string(body)), " "))
	}
	fmt.Fprint(c.stdout, string(body))
	return nil
}

// healthURL turns the server's listen address into a URL this host can
// reach: a wildcard host becomes loopback.
func healthURL(addr string) string {
	if strings.TrimSpace(addr) == "" {
		addr = "127.0.0.1:8080"
	}
	host, port, err := net.SplitHostPort(strings.TrimSpace(addr))
	if err != nil {
		return "http://" + addr + "/healthz"
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz"
}
