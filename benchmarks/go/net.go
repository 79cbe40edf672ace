// The network workloads (echo1, echo100, echo10k, idle10k, idle100k): package net over
// loopback, server and clients in this one process; benchmarks/src/net.rs has the same
// sizes and checks for the Rust programs.

package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

const (
	msgLen    = 64  // bytes of one echo request (and of its reply)
	serverBuf = 512 // the buffer an echo server reads into (and an idle one blocks in)
	fdSpare   = 100 // descriptors kept beyond two per connection
)

// netWorkload is one network workload and its size: conns connections; for an echo
// workload, trips round trips per connection (0 for an idle one).
type netWorkload struct {
	name  string
	conns int
	trips int
}

// netNominal is the workload named name at its nominal size, or false.
func netNominal(name string) (netWorkload, bool) {
	switch name {
	case "echo1":
		return netWorkload{name, 1, 50_000}, true
	case "echo100":
		return netWorkload{name, 100, 1_000}, true
	case "echo10k":
		return netWorkload{name, 10_000, 5}, true
	case "idle10k":
		return netWorkload{name, 10_000, 0}, true
	case "idle100k":
		return netWorkload{name, 100_000, 0}, true
	}
	return netWorkload{}, false
}

// netMain runs the network workload of args (`<name> [CONNS]`, CONNS replacing the
// nominal number of connections) and reports true, or reports false if args name none.
func netMain(args []string) bool {
	if len(args) < 1 || len(args) > 2 {
		return false
	}
	w, ok := netNominal(args[0])
	if !ok {
		return false
	}
	if len(args) == 2 {
		n, err := strconv.Atoi(args[1])
		if err != nil || n <= 0 {
			fail(usage)
		}
		w.conns = n
	}
	netPrepare(w)
	if w.trips > 0 {
		echo(w)
	} else {
		idle(w)
	}
	return true
}

// netPrepare raises the soft RLIMIT_NOFILE to the hard limit (Go does so at start-up
// since 1.19; done here explicitly), and skips the workload if 2 × conns + fdSpare
// descriptors do not fit under it.
func netPrepare(w netWorkload) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fail("getrlimit(RLIMIT_NOFILE): " + err.Error())
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			fail("setrlimit(RLIMIT_NOFILE): " + err.Error())
		}
	}
	need := uint64(2*w.conns + fdSpare)
	if lim.Cur < need {
		skip(w.name, fmt.Sprintf("RLIMIT_NOFILE hard limit %d is below the %d descriptors of %d"+
			" connections (two sockets each, plus %d); raise it (ulimit -Hn)"+
			" or give a smaller count (%s CONNS)", lim.Cur, need, w.conns, fdSpare, w.name))
	}
}

// startServer listens on loopback and serves: a goroutine accepting connections, and a
// goroutine per accepted connection that calls accepted.Done(), then reads into a
// serverBuf-byte buffer and writes back what it read, until end of file (or an error: the
// process is ending).
func startServer(accepted *sync.WaitGroup) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("listen: " + err.Error())
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				fail("accept: " + err.Error())
			}
			conn := c.(*net.TCPConn)
			if err := conn.SetNoDelay(true); err != nil {
				fail("SetNoDelay: " + err.Error())
			}
			go func() {
				accepted.Done()
				buf := make([]byte, serverBuf)
				for {
					n, err := conn.Read(buf)
					if err != nil {
						conn.Close()
						return
					}
					if _, err := conn.Write(buf[:n]); err != nil {
						conn.Close()
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// dial is a client connection, TCP_NODELAY set (Go's default, set explicitly).
func dial(name, addr string) *net.TCPConn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		fail(name + ": dial: " + err.Error())
	}
	conn := c.(*net.TCPConn)
	if err := conn.SetNoDelay(true); err != nil {
		fail(name + ": SetNoDelay: " + err.Error())
	}
	return conn
}

// fillMsg writes request trip of connection conn: the two numbers in its first sixteen
// bytes (little-endian), then a byte pattern that depends on both.
func fillMsg(msg []byte, conn, trip int) {
	binary.LittleEndian.PutUint64(msg[0:8], uint64(conn))
	binary.LittleEndian.PutUint64(msg[8:16], uint64(trip))
	for i := 16; i < msgLen; i++ {
		msg[i] = byte(conn + trip + i - 16)
	}
}

// p99us is the nearest-rank 99th percentile of samples (sorted in place), in µs.
func p99us(samples []int64) float64 {
	if len(samples) == 0 {
		return 0
	}
	slices.Sort(samples)
	rank := (len(samples)*99 + 99) / 100
	return float64(samples[rank-1]) / 1e3
}

// echo: main connects every client (a goroutine each, waiting on a gate) and waits until
// the server has accepted them all; then it opens the gate and every client makes its
// round trips, timing each, and closes its connection. Round trips per second from the
// gate's opening until every client is done, and the 99th percentile of the round trips.
func echo(w netWorkload) {
	var accepted, done sync.WaitGroup
	accepted.Add(w.conns)
	addr := startServer(&accepted)
	gate := make(chan struct{})
	lats := make([][]int64, w.conns)
	done.Add(w.conns)
	for c := 0; c < w.conns; c++ {
		conn := dial(w.name, addr)
		go func(c int) {
			defer done.Done()
			lat := make([]int64, 0, w.trips)
			msg, got := make([]byte, msgLen), make([]byte, msgLen)
			<-gate
			for t := 0; t < w.trips; t++ {
				fillMsg(msg, c, t)
				t0 := time.Now()
				if _, err := conn.Write(msg); err != nil {
					fail(w.name + ": write: " + err.Error())
				}
				if _, err := io.ReadFull(conn, got); err != nil {
					fail(w.name + ": read: " + err.Error())
				}
				lat = append(lat, int64(time.Since(t0)))
				if !bytes.Equal(msg, got) {
					fail(fmt.Sprintf("%s: echoed bytes differ from the request: sent %v, got %v",
						w.name, msg, got))
				}
			}
			conn.Close()
			lats[c] = lat
		}(c)
	}
	accepted.Wait()
	start := time.Now()
	close(gate)
	done.Wait()
	elapsed := time.Since(start)
	all := make([]int64, 0, w.conns*w.trips)
	for _, l := range lats {
		all = append(all, l...)
	}
	total := w.conns * w.trips
	if len(all) != total {
		fail(fmt.Sprintf("%s: %d round trips measured, want %d", w.name, len(all), total))
	}
	report(w.name, w.conns, "rtt_per_s", float64(total)/elapsed.Seconds())
	report(w.name, w.conns, "p99_us", p99us(all))
}

// idle: main opens the connections one after another; for each, the server's goroutine
// blocks reading it and a client goroutine blocks reading the other end. Once every
// goroutine has started (and parkSettle more, for the last ones to park), resident bytes
// per connection over the resident size before the first connection. The connections
// close when the process exits.
func idle(w netWorkload) {
	rss0 := rssBytes()
	var accepted, parked sync.WaitGroup
	accepted.Add(w.conns)
	addr := startServer(&accepted)
	parked.Add(w.conns)
	for c := 0; c < w.conns; c++ {
		conn := dial(w.name, addr)
		go func() {
			parked.Done()
			buf := make([]byte, msgLen)
			conn.Read(buf)
		}()
	}
	accepted.Wait()
	parked.Wait()
	time.Sleep(parkSettle)
	rss1 := rssBytes()
	report(w.name, w.conns, "bytes_per_conn", float64(rss1-rss0)/float64(w.conns))
}
