// Go's side of weft's micro-figures (timers, sync, blocking calls), printed
// in the same shape as the weft examples so sched-bench/micro.sh can show
// them side by side:
//
//	timer_cost  -> sleep(1ms) overshoot, 1M concurrent timers
//	sync_bench  -> Mutex uncontended, contended by 8 goroutines, WaitGroup 10k
//	core_cost   -> a cgo-free syscall round trip (getpid: entersyscall/exitsyscall)
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"time"
)

func median(v []time.Duration) time.Duration {
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	return v[len(v)/2]
}

func per(d time.Duration, n int) float64 { return float64(d.Nanoseconds()) / float64(n) }

func timers() {
	over := make([]float64, 0, 300)
	for i := 0; i < 300; i++ {
		t := time.Now()
		time.Sleep(time.Millisecond)
		over = append(over, float64(time.Since(t)-time.Millisecond)/1e3)
	}
	sort.Float64s(over)
	fmt.Printf("sleep(1ms) overshoot: median %.0f us, p99 %.0f us\n", over[len(over)/2], over[len(over)*99/100])
	for r := 0; r < 3; r++ {
		const N = 1000000
		var wg sync.WaitGroup
		wg.Add(N)
		t := time.Now()
		for i := 0; i < N; i++ {
			time.AfterFunc(time.Duration(i%1000)*10*time.Microsecond, wg.Done)
		}
		wg.Wait()
		fmt.Printf("round %d: 1M timers (0-10 ms) create+fire %.0f ns/timer\n", r, per(time.Since(t), N))
	}
}

func syncs() {
	const uncontended = 10000000
	var runs []time.Duration
	for r := 0; r < 5; r++ {
		var m sync.Mutex
		n := 0
		t := time.Now()
		for i := 0; i < uncontended; i++ {
			m.Lock()
			n++
			m.Unlock()
		}
		runs = append(runs, time.Since(t))
	}
	fmt.Printf("Mutex uncontended lock+unlock:               %8.1f ns\n", per(median(runs), uncontended))
	const goroutines, each = 8, 250000
	runs = nil
	for r := 0; r < 5; r++ {
		var m sync.Mutex
		var wg sync.WaitGroup
		n := 0
		t := time.Now()
		wg.Add(goroutines)
		for g := 0; g < goroutines; g++ {
			go func() {
				for i := 0; i < each; i++ {
					m.Lock()
					n++
					m.Unlock()
				}
				wg.Done()
			}()
		}
		wg.Wait()
		runs = append(runs, time.Since(t))
	}
	d := median(runs)
	fmt.Printf("Mutex contended, 8 goroutines:               %8.1f ns per lock+unlock (%.1f ms total)\n", per(d, goroutines*each), float64(d.Microseconds())/1e3)
	const fan = 10000
	runs = nil
	for r := 0; r < 5; r++ {
		var wg sync.WaitGroup
		t := time.Now()
		wg.Add(fan)
		for i := 0; i < fan; i++ {
			go wg.Done()
		}
		wg.Wait()
		runs = append(runs, time.Since(t))
	}
	d = median(runs)
	fmt.Printf("WaitGroup fan-out/join of 10k goroutines:    %8.2f ms (%.0f ns per goroutine)\n", float64(d.Microseconds())/1e3, per(d, fan))
}

func syscalls() {
	const N = 1000000
	for r := 0; r < 3; r++ {
		t := time.Now()
		for i := 0; i < N; i++ {
			syscall.Getpid()
		}
		fmt.Printf("round %d: getpid (entersyscall/exitsyscall) %.1f ns\n", r, per(time.Since(t), N))
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gomicro timers|sync|syscall")
		os.Exit(2)
	}
	fmt.Printf("maxprocs = %d\n", runtime.GOMAXPROCS(0))
	switch os.Args[1] {
	case "timers":
		timers()
	case "sync":
		syncs()
	case "syscall":
		syscalls()
	default:
		fmt.Fprintf(os.Stderr, "unknown figure set %q\n", os.Args[1])
		os.Exit(2)
	}
}
