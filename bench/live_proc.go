package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
)

// The live measurement's stream clients run in a child process: 10,000
// streams need 10,000 descriptors on each side, more than one process
// may hold here (RLIMIT_NOFILE's hard limit is 20,000), and the server's
// memory and CPU are then its own. The protocol is one JSON object per
// line each way, like the -pin load generator's.

// liveCommand is what the benchmark asks of its stream clients.
type liveCommand struct {
	Op      string       `json:"op"` // "open", "revoke", "heartbeats", "close"
	Base    string       `json:"base,omitempty"`
	Cookies []string     `json:"cookies,omitempty"` // open: one stream each
	Revokes []liveRevoke `json:"revokes,omitempty"`
	Rate    float64      `json:"rate,omitempty"`
}

// liveReply is the answer to one command.
type liveReply struct {
	Err        string       `json:"err,omitempty"`
	Limit      uint64       `json:"limit,omitempty"` // the first reply: the child's descriptor limit
	Open       openResult   `json:"open"`
	Revoke     revokeResult `json:"revoke"`
	Heartbeats int64        `json:"heartbeats,omitempty"`
}

// openDialers is how many streams the client dials at once.
const openDialers = 64

// serveLiveClient is the child's side: it announces its descriptor limit,
// then runs each command until its input ends, and closes its streams.
func serveLiveClient(r io.Reader, w io.Writer) error {
	dec, enc := json.NewDecoder(bufio.NewReader(r)), json.NewEncoder(w)
	c := newStreamClients()
	defer c.closeAll()
	if err := enc.Encode(liveReply{Limit: raiseNoFile()}); err != nil {
		return err
	}
	for {
		var cmd liveCommand
		if err := dec.Decode(&cmd); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		var reply liveReply
		switch cmd.Op {
		case "open":
			reply.Open = c.open(cmd.Base, cmd.Cookies, openDialers)
		case "revoke":
			reply.Revoke = c.revoke(cmd.Base, cmd.Revokes, cmd.Rate)
		case "heartbeats":
			reply.Heartbeats = c.heartbeats.Load()
		case "close":
			c.closeAll()
		default:
			reply.Err = fmt.Sprintf("unknown command %q", cmd.Op)
		}
		if err := enc.Encode(reply); err != nil {
			return err
		}
	}
}

// liveChild is the parent's handle on the stream clients' process.
type liveChild struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *json.Decoder
	limit uint64
}

// startLiveChild starts this binary as the stream clients, pinned to cpus
// with taskset if cpus is not empty.
func startLiveChild(cpus string) (*liveChild, error) {
	cmd, in, out, err := startSelf(cpus, "-live-client")
	if err != nil {
		return nil, fmt.Errorf("start the stream clients: %w", err)
	}
	c := &liveChild{cmd: cmd, in: in, out: out}
	var hello liveReply
	if err := c.out.Decode(&hello); err != nil {
		c.close()
		return nil, fmt.Errorf("stream clients: %w", err)
	}
	c.limit = hello.Limit
	return c, nil
}

func (c *liveChild) do(cmd liveCommand) (liveReply, error) {
	if err := json.NewEncoder(c.in).Encode(cmd); err != nil {
		return liveReply{}, fmt.Errorf("stream clients, %s: %w", cmd.Op, err)
	}
	var r liveReply
	if err := c.out.Decode(&r); err != nil {
		return liveReply{}, fmt.Errorf("stream clients, %s: %w", cmd.Op, err)
	}
	if r.Err != "" {
		return r, errors.New(r.Err)
	}
	return r, nil
}

func (c *liveChild) close() error {
	c.in.Close()
	return c.cmd.Wait()
}
