package handlers

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// Part of the live-update plumbing: live.go says where each piece is.

// Reconnect delays, in milliseconds, sent as the stream's retry field
// with jitter so that browsers do not all come back at the same instant.
const (
	retryNormal   = 2000 // after a dropped connection or a restart
	retryUserGone = 500  // after a password change: re-authenticate soon
	retryFull     = 30000
)

// jittered is base plus up to base more, in milliseconds.
func jittered(base int) int { return base + rand.IntN(base+1) }

// responseHead is the status line and headers of the stream's response,
// with what the middleware set (security headers, request id). The body
// runs until the connection closes, so it has no length.
func responseHead(c *fiber.Ctx) []byte {
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\n")
	c.Response().Header.VisitAll(func(k, v []byte) {
		switch string(k) {
		case fiber.HeaderContentLength, fiber.HeaderConnection, fiber.HeaderTransferEncoding:
			return
		}
		b.Write(k)
		b.WriteString(": ")
		b.Write(v)
		b.WriteString("\r\n")
	})
	b.WriteString("Connection: close\r\n\r\n")
	return b.Bytes()
}

// endEvent tells the browser its session has ended: go to sign-in, with
// the reason.
func endEvent(reason store.Reason) []byte {
	var b []byte
	b = append(b, retryField(jittered(retryNormal))...)
	return appendEvent(b, "end", []byte(signInURL(reason)))
}

func retryField(ms int) string { return "retry: " + strconv.Itoa(ms) + "\n\n" }

// appendID appends an id-only block: the browser's Last-Event-ID, what it
// has seen up to, in server milliseconds. It dispatches no event.
func appendID(b []byte, now time.Time) []byte {
	b = append(b, "id: "...)
	b = strconv.AppendInt(b, now.UnixMilli(), 10)
	return append(b, "\n\n"...)
}

// appendEvent appends one server-sent event: each line of data on its own
// data field, so fragments keep their newlines.
func appendEvent(b []byte, name string, data []byte) []byte {
	b = append(b, "event: "...)
	b = append(b, name...)
	b = append(b, '\n')
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		b = append(b, "data: "...)
		b = append(b, bytes.TrimSuffix(line, []byte("\r"))...)
		b = append(b, '\n')
	}
	return append(b, '\n')
}
