// Reference programs for weft's comparison report: the same workloads as
// sched-bench/src/workloads, written as a Go programmer would write them.
//
// Usage: go run . WORKLOAD SIZE   (GOMAXPROCS comes from the environment)
//
// Prints one line "value=V" with the workload's figure in the unit the report
// expects (ns per op, ms, or KB per goroutine), exactly like
// `sched-bench --worker`.
package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ringSize is the number of goroutines in the token ring.
const ringSize = 10000

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: schedbench WORKLOAD SIZE")
		os.Exit(2)
	}
	name := os.Args[1]
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n <= 0 {
		fmt.Fprintf(os.Stderr, "bad size %q\n", os.Args[2])
		os.Exit(2)
	}
	var v float64
	switch name {
	case "spawn":
		v = spawn(n)
	case "spawn-join":
		v = spawnJoin(n)
	case "yield":
		v = yield(n)
	case "pingpong":
		v = pingpong(n)
	case "buffered":
		v = buffered(n)
	case "select":
		v = selectBench(n)
	case "skynet":
		v = skynetBench(n)
	case "skynet-join":
		v = skynetJoinBench(n)
	case "ring":
		v = ring(n)
	case "fib", "fib-join":
		// fib-join is the same program: a chan of capacity 1 per call,
		// received once, is Go's future (what a join handle is elsewhere).
		v = fibBench(n)
	case "memory":
		v = memory(n)
	case "mutex":
		v = mutex(n)
	case "timers":
		v = timers(n)
	case "echo":
		v = echo(n)
	default:
		fmt.Fprintf(os.Stderr, "unknown workload %q\n", name)
		os.Exit(2)
	}
	fmt.Printf("value=%.3f\n", v)
}

func nsPer(start time.Time, ops int) float64 {
	return float64(time.Since(start).Nanoseconds()) / float64(ops)
}

// spawn: n goroutines that do nothing, waited for; ns per goroutine.
func spawn(n int) float64 {
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() { wg.Done() }()
	}
	wg.Wait()
	return nsPer(start, n)
}

// spawnJoin: n goroutines, each joined through its own future, a chan
// struct{} of capacity 1 received once (Go's spelling of spawn+join); ns
// per goroutine.
func spawnJoin(n int) float64 {
	start := time.Now()
	futs := make([]chan struct{}, n)
	for i := range futs {
		c := make(chan struct{}, 1)
		futs[i] = c
		go func() { c <- struct{}{} }()
	}
	for _, c := range futs {
		<-c
	}
	return nsPer(start, n)
}

// yield: two goroutines each call Gosched n times; ns per switch.
func yield(n int) float64 {
	var wg sync.WaitGroup
	wg.Add(2)
	start := time.Now()
	for j := 0; j < 2; j++ {
		go func() {
			for i := 0; i < n; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	return nsPer(start, 2*n)
}

// pingpong: n round trips over two unbuffered channels; ns per round trip.
func pingpong(n int) float64 {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
		close(pong)
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		ping <- i
		<-pong
	}
	close(ping)
	return nsPer(start, n)
}

// buffered: one producer, one consumer, n messages through a chan of
// capacity 128; ns per message.
func buffered(n int) float64 {
	ch := make(chan int, 128)
	start := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			ch <- i
		}
		close(ch)
	}()
	sum := 0
	for v := range ch {
		sum += v
	}
	_ = sum
	return nsPer(start, n)
}

// selectBench: four producers each send n/4 values on their own unbuffered
// channel; one consumer selects over the four; ns per message received.
func selectBench(n int) float64 {
	per := n / 4
	var cs [4]chan int
	for i := range cs {
		cs[i] = make(chan int)
	}
	start := time.Now()
	for i := range cs {
		go func(c chan int) {
			for j := 0; j < per; j++ {
				c <- j
			}
		}(cs[i])
	}
	for got := 0; got < 4*per; got++ {
		select {
		case <-cs[0]:
		case <-cs[1]:
		case <-cs[2]:
		case <-cs[3]:
		}
	}
	return nsPer(start, 4*per)
}

func skynet(c chan int, num, size, div int) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int)
	for i := 0; i < div; i++ {
		sub := num + i*(size/div)
		go skynet(rc, sub, size/div, div)
	}
	sum := 0
	for i := 0; i < div; i++ {
		sum += <-rc
	}
	c <- sum
}

// skynetBench: the skynet tree with n leaves (a power of ten); ms.
func skynetBench(n int) float64 {
	c := make(chan int)
	start := time.Now()
	go skynet(c, 0, n, 10)
	sum := <-c
	return skynetMs(start, sum, n)
}

// skynetMs checks the sum of a skynet tree with n leaves and returns the
// milliseconds since start.
func skynetMs(start time.Time, sum, n int) float64 {
	el := time.Since(start)
	if want := n * (n - 1) / 2; sum != want {
		fmt.Fprintf(os.Stderr, "skynet: sum %d, want %d\n", sum, want)
		os.Exit(1)
	}
	return float64(el.Microseconds()) / 1000
}

// skynetJoin: the skynet tree by spawn+join in Go's spelling: each child
// gets its own future, a chan int of capacity 1, received once.
func skynetJoin(num, size int) int {
	if size == 1 {
		return num
	}
	sub := size / 10
	var futs [10]chan int
	for i := range futs {
		c := make(chan int, 1)
		futs[i] = c
		go func(num int) { c <- skynetJoin(num, sub) }(num + i*sub)
	}
	sum := 0
	for _, c := range futs {
		sum += <-c
	}
	return sum
}

// skynetJoinBench: skynetJoin with n leaves, the root joined the same way;
// ms.
func skynetJoinBench(n int) float64 {
	start := time.Now()
	c := make(chan int, 1)
	go func() { c <- skynetJoin(0, n) }()
	sum := <-c
	return skynetMs(start, sum, n)
}

// ring: ringSize goroutines in a ring of unbuffered channels pass one token
// n hops; ns per hop (setup excluded).
func ring(n int) float64 {
	chans := make([]chan int, ringSize)
	for i := range chans {
		chans[i] = make(chan int)
	}
	var wg sync.WaitGroup
	wg.Add(ringSize)
	for i := 0; i < ringSize; i++ {
		in, out := chans[i], chans[(i+1)%ringSize]
		go func() {
			defer wg.Done()
			for v := range in {
				if v == 0 {
					close(out)
					for range in {
					}
					return
				}
				out <- v - 1
			}
			close(out)
		}()
	}
	start := time.Now()
	chans[0] <- n
	wg.Wait()
	return nsPer(start, n)
}

func fib(n int) int {
	if n < 2 {
		return n
	}
	ch := make(chan int, 1)
	go func() { ch <- fib(n - 1) }()
	y := fib(n - 2)
	return <-ch + y
}

func spawns(n int) int {
	if n < 2 {
		return 0
	}
	return 1 + spawns(n-1) + spawns(n-2)
}

// fibBench: fib(n) forking every call above the leaves; ns per spawn.
func fibBench(n int) float64 {
	start := time.Now()
	fib(n)
	return nsPer(start, spawns(n))
}

func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// memory: n goroutines blocked on a channel receive; KB of RSS each.
func memory(n int) float64 {
	runtime.GC()
	before := rssBytes()
	release := make(chan struct{})
	var started, done sync.WaitGroup
	started.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-release
			done.Done()
		}()
	}
	started.Wait()
	time.Sleep(10 * time.Millisecond)
	after := rssBytes()
	close(release)
	done.Wait()
	return float64(after-before) / float64(n) / 1024
}

// mutex: 8 goroutines share n lock/unlock pairs on one Mutex; ns per lock.
func mutex(n int) float64 {
	var mu sync.Mutex
	var wg sync.WaitGroup
	counter := 0
	per := n / 8
	wg.Add(8)
	start := time.Now()
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < per; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	if counter != 8*per {
		fmt.Fprintln(os.Stderr, "mutex: lost updates")
		os.Exit(1)
	}
	return nsPer(start, 8*per)
}

// timers: n goroutines each sleep 1-2 ms (spread evenly); ms until all
// woke.
func timers(n int) float64 {
	var wg sync.WaitGroup
	var fired atomic.Int64
	wg.Add(n)
	start := time.Now()
	for i := 0; i < n; i++ {
		d := time.Millisecond + time.Duration(i%1000)*time.Microsecond
		go func() {
			time.Sleep(d)
			fired.Add(1)
			wg.Done()
		}()
	}
	wg.Wait()
	if fired.Load() != int64(n) {
		os.Exit(1)
	}
	return float64(time.Since(start).Microseconds()) / 1000
}

// echoRounds and echoMsg: each echo connection makes echoRounds round trips
// of echoMsg bytes.
const echoRounds = 100
const echoMsg = 64

func processThreads() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Threads:") {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(l, "Threads:")))
			return n
		}
	}
	return 0
}

func echoServe(c net.Conn) {
	buf := make([]byte, 512)
	for {
		k, err := c.Read(buf)
		if err != nil {
			return
		}
		if _, err := c.Write(buf[:k]); err != nil {
			return
		}
	}
}

// echoClientEnv names the server's address in the client process of an
// echo run (the protocol of sched-bench/src/workloads/echo.rs).
const echoClientEnv = "SCHED_BENCH_ECHO_CLIENT"

func fatal(what string, err error) {
	fmt.Fprintf(os.Stderr, "error: %s: %v\n", what, err)
	os.Exit(1)
}

// threadSampler records this process's peak OS thread count every 2 ms
// until stop is closed; the returned channel closes when it has stopped.
func threadSampler(peak *atomic.Int64, stop chan struct{}) chan struct{} {
	peak.Store(int64(processThreads()))
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				if t := int64(processThreads()); t > peak.Load() {
					peak.Store(t)
				}
			}
		}
	}()
	return sampled
}

// echo: the server side of a loopback TCP echo with n connections, a
// goroutine per connection (net package; TCP_NODELAY is Go's default). The
// clients run in a child process (this program again, with echoClientEnv
// set): all n connect, then each makes echoRounds round trips of echoMsg
// bytes. Prints the child's p99 (us), the peak OS threads of either
// process and both ends' KB per idle connection as metric lines; returns
// round trips per second.
func echo(n int) float64 {
	if addr := os.Getenv(echoClientEnv); addr != "" {
		return echoClient(addr, n)
	}
	runtime.GC()
	before := rssBytes()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal("listen", err)
	}
	child := exec.Command(os.Args[0], "echo", strconv.Itoa(n))
	child.Env = append(os.Environ(), echoClientEnv+"="+l.Addr().String())
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		fatal("echo client process", err)
	}
	out := bufio.NewReader(stdout)
	var accepted sync.WaitGroup
	accepted.Add(n)
	go func() {
		for i := 0; i < n; i++ {
			c, err := l.Accept()
			if err != nil {
				fatal("accept", err)
			}
			accepted.Done()
			go echoServe(c)
		}
	}()
	if line, _ := out.ReadString('\n'); strings.TrimSpace(line) != "connected" {
		fmt.Fprintf(os.Stderr, "error: echo client failed before connecting: %q\n", line)
		os.Exit(1)
	}
	accepted.Wait()
	kb := float64(rssBytes()-before) / float64(n) / 1024
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := threadSampler(&peak, stop)
	io.WriteString(stdin, "start\n")
	rest, _ := io.ReadAll(out)
	if err := child.Wait(); err != nil {
		fatal("echo client process", err)
	}
	close(stop)
	<-sampled
	value := 0.0
	for _, line := range strings.Split(string(rest), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		f, _ := strconv.ParseFloat(v, 64)
		switch k {
		case "value":
			value = f
		case "metric.p99_us":
			fmt.Printf("metric.p99_us=%.3f\n", f)
		case "metric.threads":
			fmt.Printf("metric.threads=%.0f\n", math.Max(f, float64(peak.Load())))
		case "metric.kb_per_conn":
			fmt.Printf("metric.kb_per_conn=%.3f\n", f+kb)
		}
	}
	if value == 0 {
		fmt.Fprintf(os.Stderr, "error: echo client printed no figure: %q\n", rest)
		os.Exit(1)
	}
	return value
}

// echoClient: the client side, n goroutines with a connection each.
func echoClient(addr string, n int) float64 {
	runtime.GC()
	before := rssBytes()
	var connected, done sync.WaitGroup
	connected.Add(n)
	done.Add(n)
	start := make(chan struct{})
	lats := make([][]uint32, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			defer done.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				fatal("connect", err)
			}
			connected.Done()
			<-start
			lat := make([]uint32, 0, echoRounds)
			msg := make([]byte, echoMsg)
			back := make([]byte, echoMsg)
			for r := 0; r < echoRounds; r++ {
				t := time.Now()
				if _, err := c.Write(msg); err != nil {
					fatal("write", err)
				}
				if _, err := io.ReadFull(c, back); err != nil {
					fatal("read", err)
				}
				lat = append(lat, uint32(time.Since(t).Nanoseconds()))
			}
			lats[i] = lat
			c.Close()
		}(i)
	}
	connected.Wait()
	idle := rssBytes()
	fmt.Println("connected")
	if line, _ := bufio.NewReader(os.Stdin).ReadString('\n'); strings.TrimSpace(line) != "start" {
		fmt.Fprintf(os.Stderr, "error: echo server went away: %q\n", line)
		os.Exit(1)
	}
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := threadSampler(&peak, stop)
	t0 := time.Now()
	close(start)
	done.Wait()
	elapsed := time.Since(t0)
	close(stop)
	<-sampled
	all := make([]uint32, 0, n*echoRounds)
	for _, l := range lats {
		all = append(all, l...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	i := (len(all)*99+99)/100 - 1
	fmt.Printf("metric.p99_us=%.3f\n", float64(all[i])/1e3)
	fmt.Printf("metric.threads=%d\n", peak.Load())
	fmt.Printf("metric.kb_per_conn=%.3f\n", float64(idle-before)/float64(n)/1024)
	return float64(n*echoRounds) / elapsed.Seconds()
}
