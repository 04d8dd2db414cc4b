// Drives riffled's Kinesis API with the AWS SDK for Go v1 (service/kinesis), the client that
// Go producers and consumers are written against, and fails loudly on the first wrong answer of
// each step.
//
// The endpoint comes from KINESIS_ENDPOINT (http://127.0.0.1:<port>). Each step works on streams
// of its own, so one failing step does not hide what the others would find; the program exits 1
// when any step failed and 2 when the watchdog fires.
package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/awserr"
	"github.com/aws/aws-sdk-go/aws/client"
	"github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/request"
	"github.com/aws/aws-sdk-go/aws/session"
	"github.com/aws/aws-sdk-go/service/kinesis"
)

const (
	// A step that takes longer than this is stuck; every call of the step shares the deadline.
	stepTimeout = 60 * time.Second
	// The whole run; past it the process prints every goroutine's stack and exits 2, so a hang
	// in the SDK (which has no deadline of its own on an event stream) cannot block CI.
	runTimeout = 240 * time.Second
	// riffled creates streams and finishes resharding in milliseconds; the SDK's waiters would
	// otherwise sleep 10 s between their DescribeStream polls.
	waiterDelay = 100 * time.Millisecond
	// How long records put while subscribed may take to arrive over SubscribeToShard.
	deliveryTimeout = 20 * time.Second
)

var maxHashKey = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))

// stepFailure is what a failed check panics with; run() recovers it and reports the step.
type stepFailure struct{ msg string }

// step carries a step's client, deadline and the checks it made.
type step struct {
	name   string
	kc     *kinesis.Kinesis
	ctx    context.Context
	checks int
}

func (s *step) failf(format string, args ...interface{}) {
	panic(stepFailure{fmt.Sprintf(format, args...)})
}

// check counts one assertion and fails the step with the message when it does not hold.
func (s *step) check(ok bool, format string, args ...interface{}) {
	s.checks++
	if !ok {
		s.failf(format, args...)
	}
}

// must fails the step when an SDK call returned an error, naming the call.
func (s *step) must(err error, call string) {
	s.checks++
	if err != nil {
		s.failf("%s: %s", call, describeErr(err))
	}
}

func describeErr(err error) string {
	var rf awserr.RequestFailure
	if errors.As(err, &rf) {
		return fmt.Sprintf("%s (HTTP %d, code %q, request id %q)", err.Error(), rf.StatusCode(),
			rf.Code(), rf.RequestID())
	}
	return err.Error()
}

// rateRetryer retries what the SDK's default retryer does (ProvisionedThroughputExceededException
// of GetRecords among them) and also LimitExceededException "Rate exceeded": riffled enforces
// AWS's per-account control-plane rates (CreateStream 5/s, DescribeStream 10/s, ...) and AWS
// answers those with LimitExceededException, which aws-sdk-go v1 does not count as throttling.
// A Go program creating streams against AWS has to back off the same way. Other
// LimitExceededExceptions (the shard limit) are final and are not retried.
type rateRetryer struct {
	client.DefaultRetryer
}

// The calls riffled refused for a call rate or a shard's read/write throughput and the retryer
// repeated; the summary reports them so a run that only passed by waiting out many refusals
// shows it.
var rateRetries, throughputRetries int64

func isRateLimited(err error) bool {
	var ae awserr.Error
	return errors.As(err, &ae) && ae.Code() == kinesis.ErrCodeLimitExceededException &&
		strings.HasPrefix(ae.Message(), "Rate exceeded")
}

func (r rateRetryer) ShouldRetry(req *request.Request) bool {
	if isRateLimited(req.Error) {
		atomic.AddInt64(&rateRetries, 1)
		return true
	}
	retry := r.DefaultRetryer.ShouldRetry(req)
	var ae awserr.Error
	if retry && errors.As(req.Error, &ae) && ae.Code() == kinesis.ErrCodeProvisionedThroughputExceededException {
		atomic.AddInt64(&throughputRetries, 1)
	}
	return retry
}

func (r rateRetryer) RetryRules(req *request.Request) time.Duration {
	if isRateLimited(req.Error) {
		// The rates refill within a second; 250 ms, 500 ms, ... outlasts any one window.
		return time.Duration(req.RetryCount+1) * 250 * time.Millisecond
	}
	return r.DefaultRetryer.RetryRules(req)
}

func newClient(endpoint string, validate bool) *kinesis.Kinesis {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		fmt.Fprintf(os.Stderr, "KINESIS_ENDPOINT must be http://host:port, got %q\n", endpoint)
		os.Exit(2)
	}
	cfg := &aws.Config{
		Region:                 aws.String("us-east-1"),
		Endpoint:               aws.String(endpoint),
		DisableSSL:             aws.Bool(true),
		Credentials:            credentials.NewStaticCredentials("AKIDRIFFLEGOSDK", "riffle-go-sdk-secret", ""),
		DisableParamValidation: aws.Bool(!validate),
	}
	// Only throttling is retried (see rateRetryer); an error under test is never retried away.
	request.WithRetryer(cfg, rateRetryer{client.DefaultRetryer{NumMaxRetries: 6}})
	sess, err := session.NewSession(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "session.NewSession: %v\n", err)
		os.Exit(2)
	}
	return kinesis.New(sess)
}

// --- helpers shared by the steps --------------------------------------------------------------

func (s *step) createStream(name string, shards int64) {
	_, err := s.kc.CreateStreamWithContext(s.ctx, &kinesis.CreateStreamInput{
		StreamName: aws.String(name), ShardCount: aws.Int64(shards)})
	s.must(err, "CreateStream "+name)
	s.waitActive(name)
}

func (s *step) waitActive(name string) {
	err := s.kc.WaitUntilStreamExistsWithContext(s.ctx,
		&kinesis.DescribeStreamInput{StreamName: aws.String(name)},
		request.WithWaiterDelay(request.ConstantWaiterDelay(waiterDelay)))
	s.must(err, "WaitUntilStreamExists "+name)
}

// listAllShards follows NextToken with MaxResults `page`, sending StreamName on the first call
// only (the API rejects both together). Returns the shards and how many pages it took.
func (s *step) listAllShards(name string, page int64) ([]*kinesis.Shard, int) {
	var shards []*kinesis.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(name), MaxResults: aws.Int64(page)}
	pages := 0
	for {
		out, err := s.kc.ListShardsWithContext(s.ctx, in)
		s.must(err, fmt.Sprintf("ListShards %s page %d", name, pages+1))
		pages++
		s.check(int64(len(out.Shards)) <= page, "ListShards page %d has %d shards, MaxResults was %d",
			pages, len(out.Shards), page)
		shards = append(shards, out.Shards...)
		if out.NextToken == nil || *out.NextToken == "" {
			return shards, pages
		}
		s.check(pages < 100, "ListShards of %s keeps returning a NextToken after %d pages", name, pages)
		in = &kinesis.ListShardsInput{NextToken: out.NextToken, MaxResults: aws.Int64(page)}
	}
}

func parseHash(s *step, v *string, what string) *big.Int {
	s.check(v != nil, "%s is missing", what)
	n, ok := new(big.Int).SetString(*v, 10)
	s.check(ok && n.Sign() >= 0 && n.Cmp(maxHashKey) <= 0, "%s is not a 128-bit decimal: %q", what, *v)
	return n
}

// hashOf is Kinesis's hash of a partition key: the MD5 of its bytes as a big-endian integer.
func hashOf(partitionKey string) *big.Int {
	sum := md5.Sum([]byte(partitionKey))
	return new(big.Int).SetBytes(sum[:])
}

// shardForKey names the open shard whose hash key range holds the key's hash.
func (s *step) shardForKey(shards []*kinesis.Shard, partitionKey string) string {
	h := hashOf(partitionKey)
	found := ""
	for _, sh := range shards {
		if sh.SequenceNumberRange != nil && sh.SequenceNumberRange.EndingSequenceNumber != nil {
			continue
		}
		lo := parseHash(s, sh.HashKeyRange.StartingHashKey, *sh.ShardId+" StartingHashKey")
		hi := parseHash(s, sh.HashKeyRange.EndingHashKey, *sh.ShardId+" EndingHashKey")
		if h.Cmp(lo) >= 0 && h.Cmp(hi) <= 0 {
			s.check(found == "", "hash of %q is in the ranges of both %s and %s", partitionKey, found, *sh.ShardId)
			found = *sh.ShardId
		}
	}
	s.check(found != "", "hash of %q is in no open shard's range", partitionKey)
	return found
}

// readShard reads a shard from TRIM_HORIZON until it has `want` records and one more GetRecords
// call brings nothing new (so an extra or repeated record would be seen), or until the shard
// ends. Returns the records and the last GetRecords output.
func (s *step) readShard(name, shardID string, want int) ([]*kinesis.Record, *kinesis.GetRecordsOutput) {
	it, err := s.kc.GetShardIteratorWithContext(s.ctx, &kinesis.GetShardIteratorInput{
		StreamName: aws.String(name), ShardId: aws.String(shardID),
		ShardIteratorType: aws.String(kinesis.ShardIteratorTypeTrimHorizon)})
	s.must(err, "GetShardIterator TRIM_HORIZON "+shardID)
	s.check(aws.StringValue(it.ShardIterator) != "", "GetShardIterator gave no iterator for %s", shardID)
	iter := it.ShardIterator
	var records []*kinesis.Record
	var last *kinesis.GetRecordsOutput
	emptyAfterWant := 0
	for calls := 0; iter != nil; calls++ {
		s.check(calls < 200, "GetRecords on %s: %d records after %d calls, want %d", shardID,
			len(records), calls, want)
		// A small Limit makes the reader follow NextShardIterator across several pages.
		out, err := s.kc.GetRecordsWithContext(s.ctx,
			&kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int64(3)})
		s.must(err, "GetRecords "+shardID)
		s.check(out.MillisBehindLatest != nil, "GetRecords on %s has no MillisBehindLatest", shardID)
		records = append(records, out.Records...)
		last = out
		iter = out.NextShardIterator
		if len(records) >= want {
			if len(out.Records) == 0 {
				emptyAfterWant++
			}
			if emptyAfterWant >= 1 {
				break
			}
		} else if len(out.Records) == 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	return records, last
}

type written struct {
	key, data, shard, seq string
}

// checkReadBack reads every shard of the stream and checks that each written record comes back
// exactly once, on the shard PutRecord(s) named, in write order, with its data and key.
func (s *step) checkReadBack(name string, shardIDs []string, put []written) int {
	perShard := map[string][]written{}
	for _, w := range put {
		perShard[w.shard] = append(perShard[w.shard], w)
	}
	known := map[string]bool{}
	for _, id := range shardIDs {
		known[id] = true
	}
	for shard := range perShard {
		s.check(known[shard], "a record was put to %s, which is not a shard of %s", shard, name)
	}
	total := 0
	for _, id := range shardIDs {
		want := perShard[id]
		got, _ := s.readShard(name, id, len(want))
		s.check(len(got) == len(want), "%s/%s: read %d records, wrote %d", name, id, len(got), len(want))
		for i, r := range got {
			w := want[i]
			s.check(aws.StringValue(r.SequenceNumber) == w.seq,
				"%s/%s record %d: sequence number %s, PutRecord(s) said %s (lost, repeated or reordered)",
				name, id, i, aws.StringValue(r.SequenceNumber), w.seq)
			s.check(bytes.Equal(r.Data, []byte(w.data)), "%s/%s record %d: data %q, wrote %q", name, id, i,
				r.Data, w.data)
			s.check(aws.StringValue(r.PartitionKey) == w.key, "%s/%s record %d: partition key %q, wrote %q",
				name, id, i, aws.StringValue(r.PartitionKey), w.key)
			s.check(r.ApproximateArrivalTimestamp != nil && !r.ApproximateArrivalTimestamp.IsZero(),
				"%s/%s record %d has no ApproximateArrivalTimestamp", name, id, i)
		}
		total += len(got)
	}
	return total
}

func seqLess(a, b string) bool {
	x, okx := new(big.Int).SetString(a, 10)
	y, oky := new(big.Int).SetString(b, 10)
	return okx && oky && x.Cmp(y) < 0
}

func (s *step) shardIDs(name string) []string {
	shards, _ := s.listAllShards(name, 1000)
	var ids []string
	for _, sh := range shards {
		ids = append(ids, *sh.ShardId)
	}
	return ids
}

// --- the steps ---------------------------------------------------------------------------------

// Records put one by one and in batches, with keys spread over both shards, come back from
// GetRecords exactly once, per shard in sequence-number order, on the shard their hash picks.
func stepPutAndGet(s *step) string {
	const name = "go-sdk-records"
	s.createStream(name, 2)
	shards, _ := s.listAllShards(name, 1000)
	s.check(len(shards) == 2, "a 2-shard stream lists %d shards", len(shards))

	var put []written
	lastSeq := map[string]string{}
	record := func(w written) {
		s.check(w.seq != "" && w.shard != "", "record %q got SequenceNumber %q ShardId %q", w.key, w.seq, w.shard)
		s.check(w.shard == s.shardForKey(shards, w.key), "record with key %q went to %s, its hash belongs to %s",
			w.key, w.shard, s.shardForKey(shards, w.key))
		if prev, ok := lastSeq[w.shard]; ok {
			s.check(seqLess(prev, w.seq), "sequence numbers on %s do not grow: %s then %s", w.shard, prev, w.seq)
		}
		lastSeq[w.shard] = w.seq
		put = append(put, w)
	}

	for i := 0; i < 10; i++ {
		key := fmt.Sprintf("single-%d", i)
		data := fmt.Sprintf("put-record %d \x00\xff binary", i)
		out, err := s.kc.PutRecordWithContext(s.ctx, &kinesis.PutRecordInput{
			StreamName: aws.String(name), PartitionKey: aws.String(key), Data: []byte(data)})
		s.must(err, "PutRecord "+key)
		record(written{key, data, aws.StringValue(out.ShardId), aws.StringValue(out.SequenceNumber)})
	}
	for batch := 0; batch < 3; batch++ {
		var entries []*kinesis.PutRecordsRequestEntry
		var keys, datas []string
		for i := 0; i < 7; i++ {
			// Repeated keys as well as distinct ones, so one batch holds several records per key.
			key := fmt.Sprintf("batch-key-%d", (batch*7+i)%9)
			data := fmt.Sprintf("put-records batch %d entry %d", batch, i)
			keys, datas = append(keys, key), append(datas, data)
			entries = append(entries,
				&kinesis.PutRecordsRequestEntry{PartitionKey: aws.String(key), Data: []byte(data)})
		}
		out, err := s.kc.PutRecordsWithContext(s.ctx,
			&kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
		s.must(err, fmt.Sprintf("PutRecords batch %d", batch))
		s.check(aws.Int64Value(out.FailedRecordCount) == 0, "PutRecords batch %d: FailedRecordCount %d",
			batch, aws.Int64Value(out.FailedRecordCount))
		s.check(len(out.Records) == len(entries), "PutRecords batch %d: %d results for %d entries", batch,
			len(out.Records), len(entries))
		for i, r := range out.Records {
			s.check(r.ErrorCode == nil, "PutRecords batch %d entry %d: %s %s", batch, i,
				aws.StringValue(r.ErrorCode), aws.StringValue(r.ErrorMessage))
			record(written{keys[i], datas[i], aws.StringValue(r.ShardId), aws.StringValue(r.SequenceNumber)})
		}
	}
	used := map[string]int{}
	for _, w := range put {
		used[w.shard]++
	}
	// With these keys both shards get records; if one got none, the read-back would prove less.
	s.check(len(used) == 2, "the records landed on %d shard(s), expected both: %v", len(used), used)

	read := s.checkReadBack(name, s.shardIDs(name), put)
	return fmt.Sprintf("%d records written (10 PutRecord, 21 in 3 PutRecords), %d read back over 2 shards %v",
		len(put), read, used)
}

// ListShards pages with MaxResults 2 and NextToken alone; ListStreams lists the streams.
func stepListShardsAndStreams(s *step) string {
	const name = "go-sdk-list"
	s.createStream(name, 5)
	shards, pages := s.listAllShards(name, 2)
	s.check(pages == 3, "5 shards at MaxResults 2 took %d pages, expected 3", pages)
	s.check(len(shards) == 5, "ListShards returned %d shards in all, expected 5", len(shards))
	seen := map[string]bool{}
	for i, sh := range shards {
		id := aws.StringValue(sh.ShardId)
		s.check(!seen[id], "ListShards returned %s twice", id)
		seen[id] = true
		want := fmt.Sprintf("shardId-%012d", i)
		s.check(id == want, "shard %d of the listing is %s, expected %s", i, id, want)
	}
	// The ranges of a new stream tile the hash space, in order, without gaps.
	next := big.NewInt(0)
	for _, sh := range shards {
		lo := parseHash(s, sh.HashKeyRange.StartingHashKey, *sh.ShardId+" StartingHashKey")
		hi := parseHash(s, sh.HashKeyRange.EndingHashKey, *sh.ShardId+" EndingHashKey")
		s.check(lo.Cmp(next) == 0, "%s starts at %s, expected %s", *sh.ShardId, lo, next)
		s.check(hi.Cmp(lo) >= 0, "%s ends (%s) before it starts (%s)", *sh.ShardId, hi, lo)
		next = new(big.Int).Add(hi, big.NewInt(1))
	}
	s.check(next.Cmp(new(big.Int).Add(maxHashKey, big.NewInt(1))) == 0,
		"the shards' ranges end at %s, not at 2^128-1", new(big.Int).Sub(next, big.NewInt(1)))

	// A NextToken of a finished listing must not be mixed with StreamName: the SDK sends what it
	// is given, so the server's answer to both together is checked as well.
	first, err := s.kc.ListShardsWithContext(s.ctx,
		&kinesis.ListShardsInput{StreamName: aws.String(name), MaxResults: aws.Int64(2)})
	s.must(err, "ListShards first page")
	s.check(first.NextToken != nil, "the first page of 5 shards at MaxResults 2 has no NextToken")
	_, err = s.kc.ListShardsWithContext(s.ctx,
		&kinesis.ListShardsInput{StreamName: aws.String(name), NextToken: first.NextToken})
	s.checkCode(err, "InvalidArgumentException", "ListShards with both StreamName and NextToken")

	const other = "go-sdk-list-other"
	s.createStream(other, 1)
	var names []string
	listPages := 0
	err = s.kc.ListStreamsPagesWithContext(s.ctx, &kinesis.ListStreamsInput{Limit: aws.Int64(1)},
		func(out *kinesis.ListStreamsOutput, last bool) bool {
			listPages++
			for _, n := range out.StreamNames {
				names = append(names, aws.StringValue(n))
			}
			return listPages < 100
		})
	s.must(err, "ListStreams")
	count := map[string]int{}
	for _, n := range names {
		count[n]++
	}
	for _, n := range []string{name, other} {
		s.check(count[n] == 1, "ListStreams (Limit 1, paged) lists %q %d times: %v", n, count[n], names)
	}
	s.check(listPages >= 2, "ListStreams with Limit 1 over %d streams took %d page(s)", len(names), listPages)
	return fmt.Sprintf("5 shards in %d ListShards pages; ListStreams listed %d streams in %d pages", pages,
		len(names), listPages)
}

// SplitShard at the middle of a shard's range closes it and opens two children; later records
// with keys in the parent's range go to the child whose half holds their hash.
func stepSplitShard(s *step) string {
	const name = "go-sdk-split"
	s.createStream(name, 2)
	before, _ := s.listAllShards(name, 1000)
	parent := before[0]
	parentID := aws.StringValue(parent.ShardId)
	lo := parseHash(s, parent.HashKeyRange.StartingHashKey, parentID+" StartingHashKey")
	hi := parseHash(s, parent.HashKeyRange.EndingHashKey, parentID+" EndingHashKey")
	mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)

	// A record on the parent before the split, to be read to the parent's end afterwards.
	var keyInParent string
	for i := 0; keyInParent == ""; i++ {
		s.check(i < 1000, "no key hashes into %s", parentID)
		if k := fmt.Sprintf("pre-split-%d", i); s.shardForKey(before, k) == parentID {
			keyInParent = k
		}
	}
	pre, err := s.kc.PutRecordWithContext(s.ctx, &kinesis.PutRecordInput{StreamName: aws.String(name),
		PartitionKey: aws.String(keyInParent), Data: []byte("before the split")})
	s.must(err, "PutRecord before the split")
	s.check(aws.StringValue(pre.ShardId) == parentID, "pre-split record went to %s, not %s",
		aws.StringValue(pre.ShardId), parentID)

	_, err = s.kc.SplitShardWithContext(s.ctx, &kinesis.SplitShardInput{StreamName: aws.String(name),
		ShardToSplit: aws.String(parentID), NewStartingHashKey: aws.String(mid.String())})
	s.must(err, "SplitShard "+parentID+" at "+mid.String())
	s.waitActive(name)

	after, _ := s.listAllShards(name, 1000)
	s.check(len(after) == 4, "after one split of 2 shards ListShards shows %d shards, expected 4", len(after))
	var children []*kinesis.Shard
	var parentAfter *kinesis.Shard
	for _, sh := range after {
		if aws.StringValue(sh.ShardId) == parentID {
			parentAfter = sh
		}
		if aws.StringValue(sh.ParentShardId) == parentID {
			children = append(children, sh)
		}
	}
	s.check(parentAfter != nil, "ListShards no longer shows the parent %s", parentID)
	s.check(parentAfter.SequenceNumberRange != nil &&
		parentAfter.SequenceNumberRange.EndingSequenceNumber != nil,
		"the split parent %s has no EndingSequenceNumber: %v", parentID, parentAfter.SequenceNumberRange)
	s.check(len(children) == 2, "%d shards have ParentShardId %s, expected 2", len(children), parentID)
	halves := [][2]*big.Int{{lo, new(big.Int).Sub(mid, big.NewInt(1))}, {mid, hi}}
	childIDs := map[string]bool{}
	for _, half := range halves {
		matched := false
		for _, c := range children {
			clo := parseHash(s, c.HashKeyRange.StartingHashKey, "child StartingHashKey")
			chi := parseHash(s, c.HashKeyRange.EndingHashKey, "child EndingHashKey")
			if clo.Cmp(half[0]) == 0 && chi.Cmp(half[1]) == 0 {
				matched = true
				childIDs[aws.StringValue(c.ShardId)] = true
				s.check(c.SequenceNumberRange != nil && c.SequenceNumberRange.EndingSequenceNumber == nil,
					"child %s is closed already", aws.StringValue(c.ShardId))
				s.check(seqLess(aws.StringValue(parentAfter.SequenceNumberRange.EndingSequenceNumber),
					aws.StringValue(c.SequenceNumberRange.StartingSequenceNumber)),
					"child %s starts at %s, not after the parent's end %s", aws.StringValue(c.ShardId),
					aws.StringValue(c.SequenceNumberRange.StartingSequenceNumber),
					aws.StringValue(parentAfter.SequenceNumberRange.EndingSequenceNumber))
			}
		}
		s.check(matched, "no child covers [%s, %s]", half[0], half[1])
	}

	// Records whose keys hash into the parent's old range now land in the children.
	var put []written
	perChild := map[string]int{}
	for i := 0; len(put) < 12; i++ {
		s.check(i < 5000, "too few keys hash into %s", parentID)
		key := fmt.Sprintf("post-split-%d", i)
		if h := hashOf(key); h.Cmp(lo) < 0 || h.Cmp(hi) > 0 {
			continue
		}
		data := "after the split " + key
		out, err := s.kc.PutRecordWithContext(s.ctx, &kinesis.PutRecordInput{StreamName: aws.String(name),
			PartitionKey: aws.String(key), Data: []byte(data)})
		s.must(err, "PutRecord after the split")
		shard := aws.StringValue(out.ShardId)
		s.check(childIDs[shard], "record %q (in the parent's range) went to %s, not to a child", key, shard)
		s.check(shard == s.shardForKey(after, key), "record %q went to %s, its hash belongs to %s", key, shard,
			s.shardForKey(after, key))
		perChild[shard]++
		put = append(put, written{key, data, shard, aws.StringValue(out.SequenceNumber)})
	}
	s.check(len(perChild) == 2, "post-split records reached %d child(ren), expected both: %v",
		len(perChild), perChild)
	var ids []string
	for id := range childIDs {
		ids = append(ids, id)
	}
	read := s.checkReadBack(name, ids, put)

	// The parent still serves its records, then ends: no next iterator, and its children named.
	got, last := s.readShard(name, parentID, 1)
	s.check(len(got) == 1 && string(got[0].Data) == "before the split",
		"the closed parent %s gave %d records, expected its one pre-split record", parentID, len(got))
	for i := 0; last.NextShardIterator != nil; i++ {
		s.check(i < 50, "GetRecords on the closed parent %s never ends", parentID)
		out, err := s.kc.GetRecordsWithContext(s.ctx,
			&kinesis.GetRecordsInput{ShardIterator: last.NextShardIterator})
		s.must(err, "GetRecords to the parent's end")
		s.check(len(out.Records) == 0, "the closed parent %s gave %d more records", parentID, len(out.Records))
		last = out
	}
	named := map[string]bool{}
	for _, c := range last.ChildShards {
		named[aws.StringValue(c.ShardId)] = true
	}
	s.check(len(named) == 2 && named[aws.StringValue(children[0].ShardId)] &&
		named[aws.StringValue(children[1].ShardId)],
		"GetRecords at the end of %s names ChildShards %v, expected the two children", parentID, named)
	return fmt.Sprintf("split %s at %s; %d records put afterwards landed %v and %d were read back",
		parentID, mid, len(put), perChild, read)
}

// registerConsumer registers an enhanced fan-out consumer and waits until it is ACTIVE.
func (s *step) registerConsumer(streamARN, name string) string {
	reg, err := s.kc.RegisterStreamConsumerWithContext(s.ctx, &kinesis.RegisterStreamConsumerInput{
		StreamARN: aws.String(streamARN), ConsumerName: aws.String(name)})
	s.must(err, "RegisterStreamConsumer "+name)
	consumerARN := aws.StringValue(reg.Consumer.ConsumerARN)
	s.check(strings.HasPrefix(consumerARN, streamARN+"/consumer/"+name+":"), "consumer ARN is %q", consumerARN)
	for i := 0; ; i++ {
		d, err := s.kc.DescribeStreamConsumerWithContext(s.ctx,
			&kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(consumerARN)})
		s.must(err, "DescribeStreamConsumer "+name)
		if aws.StringValue(d.ConsumerDescription.ConsumerStatus) == kinesis.ConsumerStatusActive {
			return consumerARN
		}
		s.check(i < 200, "consumer %s still %s after %d polls", name,
			aws.StringValue(d.ConsumerDescription.ConsumerStatus), i)
		time.Sleep(50 * time.Millisecond)
	}
}

// subscribe opens SubscribeToShard on the stream's only shard. The subscription's own context
// ends it at the step's deadline at the latest, since the SDK puts none on an event stream.
func (s *step) subscribe(consumerARN, position string) *kinesis.SubscribeToShardEventStream {
	sub, err := s.kc.SubscribeToShardWithContext(s.ctx, &kinesis.SubscribeToShardInput{
		ConsumerARN: aws.String(consumerARN), ShardId: aws.String("shardId-000000000000"),
		StartingPosition: &kinesis.StartingPosition{Type: aws.String(position)}})
	s.must(err, "SubscribeToShard "+position)
	return sub.GetStream()
}

// receive reads events until the records `order` names (by sequence number, with their data in
// `want`) have all arrived, in that order and no others, then closes the subscription. Returns
// how many SubscribeToShardEvents carried them.
func (s *step) receive(stream *kinesis.SubscribeToShardEventStream, order []string, want map[string]string,
	what string) int {
	defer stream.Close()
	var got []string
	events := 0
	timeout := time.NewTimer(deliveryTimeout)
	defer timeout.Stop()
	for len(got) < len(order) {
		select {
		case ev, ok := <-stream.Events():
			if !ok {
				s.failf("%s: the event stream ended after %d of %d records: %v", what, len(got), len(order),
					stream.Err())
			}
			e, isRecords := ev.(*kinesis.SubscribeToShardEvent)
			s.check(isRecords, "%s: unexpected event %T: %v", what, ev, ev)
			events++
			cont := aws.StringValue(e.ContinuationSequenceNumber)
			s.check(cont != "", "%s: event %d has no ContinuationSequenceNumber", what, events)
			s.check(e.MillisBehindLatest != nil, "%s: event %d has no MillisBehindLatest", what, events)
			for _, r := range e.Records {
				seq := aws.StringValue(r.SequenceNumber)
				data, known := want[seq]
				s.check(known, "%s: received record %s, which this test did not put (data %q)", what, seq, r.Data)
				s.check(len(got) < len(order) && order[len(got)] == seq, "%s: record %d received is %s, expected %s",
					what, len(got), seq, order[min(len(got), len(order)-1)])
				s.check(string(r.Data) == data, "%s: record %s has data %q, put %q", what, seq, r.Data, data)
				s.check(!seqLess(cont, seq), "%s: event's ContinuationSequenceNumber %s is before its record %s",
					what, cont, seq)
				got = append(got, seq)
			}
		case <-timeout.C:
			s.failf("%s: after %s only %d of %d records arrived (%d events)", what, deliveryTimeout, len(got),
				len(order), events)
		}
	}
	s.must(stream.Close(), what+": closing the event stream")
	if err := stream.Err(); err != nil && !errors.Is(err, context.Canceled) {
		s.failf("%s: the event stream failed: %s", what, describeErr(err))
	}
	return events
}

// An enhanced fan-out consumer subscribed from LATEST receives the records put while it listens,
// in SubscribeToShardEvents carrying ContinuationSequenceNumber; a second consumer subscribed
// from TRIM_HORIZON afterwards receives the same records from the start.
func stepSubscribeToShard(s *step) string {
	const name = "go-sdk-efo"
	s.createStream(name, 1)
	summary, err := s.kc.DescribeStreamSummaryWithContext(s.ctx,
		&kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	s.must(err, "DescribeStreamSummary")
	streamARN := aws.StringValue(summary.StreamDescriptionSummary.StreamARN)
	s.check(strings.HasSuffix(streamARN, ":stream/"+name), "stream ARN is %q", streamARN)

	live := s.registerConsumer(streamARN, "go-sdk-live")
	stream := s.subscribe(live, kinesis.ShardIteratorTypeLatest)
	const count = 15
	want := map[string]string{}
	var order []string
	for i := 0; i < count; i++ {
		key := fmt.Sprintf("efo-%d", i)
		data := fmt.Sprintf("pushed %d", i)
		out, err := s.kc.PutRecordWithContext(s.ctx, &kinesis.PutRecordInput{StreamName: aws.String(name),
			PartitionKey: aws.String(key), Data: []byte(data)})
		s.must(err, "PutRecord while subscribed")
		want[aws.StringValue(out.SequenceNumber)] = data
		order = append(order, aws.StringValue(out.SequenceNumber))
	}
	liveEvents := s.receive(stream, order, want, "LATEST")

	replay := s.registerConsumer(streamARN, "go-sdk-replay")
	replayEvents := s.receive(s.subscribe(replay, kinesis.ShardIteratorTypeTrimHorizon), order, want,
		"TRIM_HORIZON")

	for _, arn := range []string{live, replay} {
		_, err = s.kc.DeregisterStreamConsumerWithContext(s.ctx,
			&kinesis.DeregisterStreamConsumerInput{ConsumerARN: aws.String(arn)})
		s.must(err, "DeregisterStreamConsumer")
	}
	return fmt.Sprintf("%d records pushed from LATEST in %d SubscribeToShardEvents, again from TRIM_HORIZON in %d",
		count, liveEvents, replayEvents)
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// checkCode asserts that err is an AWS error with the given code.
func (s *step) checkCode(err error, code, what string) awserr.Error {
	s.check(err != nil, "%s succeeded; expected %s", what, code)
	var ae awserr.Error
	s.check(errors.As(err, &ae), "%s failed with a non-AWS error %T: %v", what, err, err)
	s.check(ae.Code() == code, "%s failed with code %q (%s), expected %q", what, ae.Code(),
		describeErr(err), code)
	return ae
}

// Errors reach Go code as awserr values with the codes AWS uses.
func stepErrors(s *step, endpoint string) string {
	_, err := s.kc.DescribeStreamWithContext(s.ctx,
		&kinesis.DescribeStreamInput{StreamName: aws.String("go-sdk-no-such-stream")})
	s.checkCode(err, kinesis.ErrCodeResourceNotFoundException, "DescribeStream of a missing stream")
	var rf awserr.RequestFailure
	s.check(errors.As(err, &rf) && rf.StatusCode() == 400,
		"ResourceNotFoundException came with HTTP %v, expected 400", rf)
	s.check(rf.RequestID() != "", "ResourceNotFoundException has no request id")

	const name = "go-sdk-errors"
	s.createStream(name, 1)
	// The SDK checks the key's minimum length itself and sends nothing.
	_, err = s.kc.PutRecordWithContext(s.ctx, &kinesis.PutRecordInput{StreamName: aws.String(name),
		PartitionKey: aws.String(""), Data: []byte("x")})
	s.checkCode(err, request.InvalidParameterErrCode,
		"PutRecord with an empty partition key (SDK validation on)")
	var invalid request.ErrInvalidParams
	s.check(errors.As(err, &invalid) && invalid.Len() == 1,
		"the SDK's validation error is not one invalid parameter: %v", err)
	param, isParam := invalid.OrigErrs()[0].(request.ErrInvalidParam)
	s.check(isParam && param.Field() == "PutRecordInput.PartitionKey" &&
		param.Code() == request.ParamMinLenErrCode,
		"the SDK's validation error does not name PartitionKey's minimum length: %v", err)
	// With the SDK's checks off the request reaches riffled, which must refuse it as AWS does.
	raw := newClient(endpoint, false)
	_, err = raw.PutRecordWithContext(s.ctx, &kinesis.PutRecordInput{StreamName: aws.String(name),
		PartitionKey: aws.String(""), Data: []byte("x")})
	s.checkCode(err, "ValidationException", "PutRecord with an empty partition key (SDK validation off)")
	s.check(errors.As(err, &rf) && rf.StatusCode() == 400,
		"ValidationException came with HTTP %v, expected 400", rf)
	// Nothing was written by either attempt.
	got, _ := s.readShard(name, "shardId-000000000000", 0)
	s.check(len(got) == 0, "refused PutRecords wrote %d record(s)", len(got))

	_, err = s.kc.CreateStreamWithContext(s.ctx,
		&kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int64(1)})
	s.checkCode(err, kinesis.ErrCodeResourceInUseException, "CreateStream of an existing stream")
	return "missing stream -> ResourceNotFoundException; empty key -> InvalidParameter (ParamMinLenError) " +
		"client-side, ValidationException server-side; duplicate CreateStream -> ResourceInUseException"
}

// Every stream the steps made is deleted, and then is gone.
func stepDeleteStreams(s *step) string {
	var names []string
	err := s.kc.ListStreamsPagesWithContext(s.ctx, &kinesis.ListStreamsInput{},
		func(out *kinesis.ListStreamsOutput, last bool) bool {
			for _, n := range out.StreamNames {
				names = append(names, aws.StringValue(n))
			}
			return true
		})
	s.must(err, "ListStreams")
	s.check(len(names) > 0, "ListStreams shows no stream to delete")
	for _, n := range names {
		_, err := s.kc.DeleteStreamWithContext(s.ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(n),
			EnforceConsumerDeletion: aws.Bool(true)})
		s.must(err, "DeleteStream "+n)
	}
	for _, n := range names {
		err := s.kc.WaitUntilStreamNotExistsWithContext(s.ctx,
			&kinesis.DescribeStreamInput{StreamName: aws.String(n)},
			request.WithWaiterDelay(request.ConstantWaiterDelay(waiterDelay)))
		s.must(err, "WaitUntilStreamNotExists "+n)
		_, err = s.kc.DescribeStreamWithContext(s.ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(n)})
		s.checkCode(err, kinesis.ErrCodeResourceNotFoundException, "DescribeStream after DeleteStream of "+n)
	}
	out, err := s.kc.ListStreamsWithContext(s.ctx, &kinesis.ListStreamsInput{})
	s.must(err, "ListStreams after deleting")
	s.check(len(out.StreamNames) == 0, "ListStreams still shows %v", aws.StringValueSlice(out.StreamNames))
	return fmt.Sprintf("deleted %d streams", len(names))
}

func run(kc *kinesis.Kinesis, name string, body func(*step) string) (ok bool, checks int) {
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	s := &step{name: name, kc: kc, ctx: ctx}
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			f, isFailure := r.(stepFailure)
			if !isFailure {
				buf := make([]byte, 1<<16)
				f = stepFailure{fmt.Sprintf("panic: %v\n%s", r, buf[:runtime.Stack(buf, false)])}
			}
			fmt.Printf("FAIL %-22s after %d checks (%.2fs): %s\n", name, s.checks, time.Since(start).Seconds(), f.msg)
			ok, checks = false, s.checks
		}
	}()
	detail := body(s)
	fmt.Printf("ok   %-22s %3d checks (%.2fs): %s\n", name, s.checks, time.Since(start).Seconds(), detail)
	return true, s.checks
}

func main() {
	endpoint := os.Getenv("KINESIS_ENDPOINT")
	if endpoint == "" {
		fmt.Fprintln(os.Stderr, "KINESIS_ENDPOINT is not set (http://127.0.0.1:<port> of riffled's Kinesis API)")
		os.Exit(2)
	}
	time.AfterFunc(runTimeout, func() {
		buf := make([]byte, 1<<20)
		fmt.Printf("FAIL watchdog: the run took longer than %s; goroutines:\n%s\n", runTimeout,
			buf[:runtime.Stack(buf, true)])
		os.Exit(2)
	})
	kc := newClient(endpoint, true)
	steps := []struct {
		name string
		body func(*step) string
	}{
		{"PutRecord(s)+GetRecords", stepPutAndGet},
		{"ListShards+ListStreams", stepListShardsAndStreams},
		{"SplitShard", stepSplitShard},
		{"SubscribeToShard", stepSubscribeToShard},
		{"errors", func(s *step) string { return stepErrors(s, endpoint) }},
		{"DeleteStream", stepDeleteStreams},
	}
	passed, failed, checks := 0, 0, 0
	for _, st := range steps {
		ok, n := run(kc, st.name, st.body)
		checks += n
		if ok {
			passed++
		} else {
			failed++
		}
	}
	fmt.Printf("aws-sdk-go %s against %s: %d steps passed, %d failed, %d checks; retried %d calls refused "+
		"for a call rate, %d for shard throughput\n", aws.SDKVersion, endpoint, passed, failed, checks,
		atomic.LoadInt64(&rateRetries), atomic.LoadInt64(&throughputRetries))
	if failed > 0 {
		os.Exit(1)
	}
}
