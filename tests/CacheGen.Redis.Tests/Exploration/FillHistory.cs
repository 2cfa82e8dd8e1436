using System.Collections.Concurrent;

namespace CacheGen.Redis.Tests.Exploration;

/// <summary>
/// Where a value came from: a data call (begun at <see cref="Begin"/>), a SetAsync (running from Begin to End), or a
/// write-through whose write committed at <see cref="Commit"/>.
/// </summary>
public sealed record Origin(bool IsSet, long Begin, long End, long? Commit = null);

/// <summary>An eviction (RemoveAsync, SetAsync, RemoveByTagAsync) of a key or a tag ("*": everything), from Begin to End.</summary>
public sealed record EvictionRecord(string Description, string? Key, string? Tag, long Begin, long End)
{
    public bool Covers(string key, string[] tags) => Tag == "*" || (Key is not null ? Key == key : tags.Contains(Tag));
}

/// <summary>A read that returned <see cref="Value"/>, begun at <see cref="Start"/>.</summary>
public sealed record ReadRecord(string Caller, string Key, long Start, string Value);

/// <summary>
/// What callers saw, on one logical clock: evictions tick it when they begin and when they return, data calls and
/// reads note it when they begin. The model: once an eviction of a key has returned, no read that begins later returns
/// a value whose data call began before the eviction did, nor one set by a SetAsync that returned before it began.
/// A write-through is an eviction of its key that begins when its write commits (the database holds its value from
/// then on), and its value is older than any eviction that began after that commit: so after two write-throughs, no
/// read returns the value whose write committed first, whichever completed last.
/// And no caller fails unless it gave up itself.
/// </summary>
public sealed class FillHistory
{
    private readonly ConcurrentDictionary<string, Origin> _origins = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<EvictionRecord> _evictions = new();
    private readonly ConcurrentQueue<ReadRecord> _reads = new();
    private readonly ConcurrentQueue<string> _failures = new();
    private long _clock;
    private long _progress;
    private int _values;

    public long Now => Volatile.Read(ref _clock);

    public long Tick() => Interlocked.Increment(ref _clock);

    /// <summary>Counts anything that happened (a data call began or ended, a caller finished, a fill finished).</summary>
    public void Progress() => Interlocked.Increment(ref _progress);

    public long ProgressCount => Volatile.Read(ref _progress);

    /// <summary>A value made by a data call that begins now.</summary>
    public string NewFillValue(string key)
    {
        string value = $"{key}:fill{Interlocked.Increment(ref _values)}";
        _origins[value] = new Origin(IsSet: false, Now, long.MaxValue);
        return value;
    }

    /// <summary>Runs a SetAsync of a fresh value, recording it both as an origin and as an eviction of its key.</summary>
    public async Task SetAsync(string key, Func<string, Task> set)
    {
        string value = $"{key}:set{Interlocked.Increment(ref _values)}";
        long begin = Tick();
        _origins[value] = new Origin(IsSet: true, begin, long.MaxValue);
        await set(value);
        long end = Tick();
        _origins[value] = new Origin(IsSet: true, begin, end);
        _evictions.Enqueue(new EvictionRecord($"SetAsync({key}, {value})", key, null, begin, end));
    }

    /// <summary>
    /// Runs a write-through; <paramref name="run"/> calls the function it is given at the moment its write commits,
    /// which returns the value written.
    /// </summary>
    public async Task UpdateAsync(string key, Func<Func<string>, Task> run)
    {
        string value = $"{key}:update{Interlocked.Increment(ref _values)}";
        long commit = 0;
        Tick();
        await run(() =>
        {
            commit = Tick();
            _origins[value] = new Origin(IsSet: true, commit, long.MaxValue, commit);
            return value;
        });
        long end = Tick();
        _origins[value] = new Origin(IsSet: true, commit, end, commit);
        _evictions.Enqueue(new EvictionRecord($"Update({key}, {value}) committed", key, null, commit, end));
    }

    public async Task EvictAsync(string description, string? key, string? tag, Func<Task> evict)
    {
        long begin = Tick();
        await evict();
        _evictions.Enqueue(new EvictionRecord(description, key, tag, begin, Tick()));
    }

    /// <summary>One eviction of many keys or many tags: each counts as evicted from its begin to its end.</summary>
    public async Task EvictManyAsync(string description, string[] keys, string[] tags, Func<Task> evict)
    {
        long begin = Tick();
        await evict();
        long end = Tick();
        foreach (string key in keys)
            _evictions.Enqueue(new EvictionRecord(description, key, null, begin, end));
        foreach (string tag in tags)
            _evictions.Enqueue(new EvictionRecord(description, null, tag, begin, end));
    }

    public void Read(string caller, string key, long start, string value) => _reads.Enqueue(new ReadRecord(caller, key, start, value));

    public void Failed(string what) => _failures.Enqueue(what);

    /// <summary>Every read that broke the model, and every failure of a caller that did not give up.</summary>
    public List<string> Violations(Func<string, string[]> tagsOf)
    {
        var violations = new List<string>(_failures);
        foreach (ReadRecord read in _reads)
        {
            if (!_origins.TryGetValue(read.Value, out Origin? origin))
            {
                violations.Add($"{read.Caller} read {read.Key} = {read.Value}, which nobody wrote");
                continue;
            }
            foreach (EvictionRecord eviction in _evictions)
            {
                if (eviction.End > read.Start || !eviction.Covers(read.Key, tagsOf(read.Key)))
                    continue;
                bool fresh = origin.Commit is { } committed ? committed >= eviction.Begin
                    : origin.IsSet ? origin.End > eviction.Begin
                    : origin.Begin >= eviction.Begin;
                if (!fresh)
                {
                    string source = origin.IsSet ? $"set [{origin.Begin}..{origin.End}]" : $"data call begun at {origin.Begin}";
                    violations.Add($"{read.Caller} began at {read.Start} and read {read.Value} ({source}) after {eviction.Description} " +
                        $"[{eviction.Begin}..{eviction.End}] had returned");
                }
            }
        }
        return violations;
    }
}
