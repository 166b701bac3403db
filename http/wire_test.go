package http

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listen serves the env's server on a real loopback listener until the
// test ends and returns its base URL.
func (e *env) listen() string {
	e.t.Helper()
	srv := httptest.NewServer(e.server.Handler())
	e.t.Cleanup(srv.Close)
	return srv.URL
}

// rawRequest writes raw, a hand-written HTTP/1.1 request, to the server at
// base over a plain TCP connection and reads the answer. It is for what
// Go's client refuses to send, such as a malformed chunked body. With
// closeWrite the client then closes its sending side, as one that gives up
// halfway through a body does.
func rawRequest(t testing.TB, base, raw string, closeWrite bool) *response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	if closeWrite {
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading the answer's body: %v", err)
	}
	return &response{Status: res.StatusCode, Header: res.Header, Body: body}
}

// chunkedRequest is a raw HTTP/1.1 request with a chunked body: chunks is
// written as is after the header, so it may be malformed.
func chunkedRequest(method, path, token, contentType string, header map[string]string, chunks string) string {
	var b strings.Builder
	b.WriteString(method + " " + path + " HTTP/1.1\r\nHost: doorman.test\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n")
	b.WriteString("Content-Type: " + contentType + "\r\n")
	if token != "" {
		b.WriteString("Authorization: Bearer " + token + "\r\n")
	}
	for k, v := range header {
		b.WriteString(k + ": " + v + "\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(chunks)
	return b.String()
}

// chunk encodes s as one chunk followed by the last chunk.
func chunk(s string) string {
	return strconv.FormatInt(int64(len(s)), 16) + "\r\n" + s + "\r\n0\r\n\r\n"
}
