#!/usr/bin/python3
# Eight threads print 1,000 numbered lines each at once, then the main
# thread prints "all done".  Every line must arrive whole: writes of one
# request's threads are serialised by the runner.
import sys, threading

print("Content-Type: text/plain")
print()
sys.stdout.flush()


def talk(n):
    for i in range(1000):
        print("thread %d line %04d" % (n, i))
        if i % 100 == 0:
            sys.stdout.flush()
            sys.stderr.write("emb-threads stderr %d %d\n" % (n, i))


threads = [threading.Thread(target=talk, args=(n,)) for n in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("all done")
