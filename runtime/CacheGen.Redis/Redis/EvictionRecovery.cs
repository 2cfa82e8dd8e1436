using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace CacheGen.Redis;

/// <summary>
/// Everything that happens after Redis failed: the evictions it did not confirm (remembered, so no read uses Redis
/// for them meanwhile), and the background loop that probes an open circuit breaker and replays those evictions.
/// </summary>
internal sealed class EvictionRecovery : IDisposable
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);

    private readonly RedisCallPolicy _policy;
    private readonly PendingEvictions _pending;
    private readonly Func<PendingEviction, CancellationToken, Task> _replay;
    private readonly Func<CancellationToken, Task> _ping;
    private readonly int _maximumPending;
    private readonly ILogger _logger;
    private readonly CacheMetrics _metrics;
    private readonly ConcurrentDictionary<string, long> _recentKeyEvictions = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationToken _stopToken;
    private long _longestLifetimeTicks;
    private int _recovering;
    private int _trimmingRecent;
    private int _recentCount; // kept by hand: ConcurrentDictionary.Count takes every lock

    /// <summary>
    /// <paramref name="replay"/> makes one eviction again in Redis, bypassing the breaker, and throws if Redis did not
    /// confirm it; <paramref name="ping"/> throws unless Redis answers.
    /// </summary>
    public EvictionRecovery(RedisCallPolicy policy, CacheGenOptions options, Func<PendingEviction, CancellationToken, Task> replay,
        Func<CancellationToken, Task> ping, ILogger logger, CacheMetrics metrics)
    {
        _policy = policy;
        _replay = replay;
        _ping = ping;
        _maximumPending = options.MaximumPendingEvictions;
        _pending = new PendingEvictions(options.MaximumPendingEvictions);
        _longestLifetimeTicks = options.DefaultExpiration.Ticks;
        _logger = logger;
        _metrics = metrics;
        _stopToken = _stop.Token;
        policy.BreakerOpened = Start;
    }

    /// <summary>Awaited for each eviction replayed in Redis (key or tag name, true for a tag), to tell other instances.</summary>
    public Func<string, bool, ValueTask>? EvictionReplayed { get; set; }

    public int PendingCount => _pending.Count;

    /// <summary>True while more evictions were lost than could be remembered: Redis is not read until the entries expired.</summary>
    public bool IsBypassing => _pending.IsBypassing;

    /// <summary>
    /// Whether a call must not use Redis for <paramref name="key"/>: an eviction of it or of one of its tags is not
    /// confirmed yet, or more evictions were lost than could be remembered. A miss, not a failure.
    /// </summary>
    public bool MustSkip(string key, string[] tags) => _pending.Covers(key, tags) || _pending.IsBypassing;

    /// <summary>Remembers the longest entry lifetime written: how long an overflow must keep Redis unread.</summary>
    public void NoteLifetime(TimeSpan lifetime) => AtomicMax.Raise(ref _longestLifetimeTicks, lifetime.Ticks);

    /// <summary>Remembers an eviction Redis did not confirm, and makes sure the loop will replay it.</summary>
    public void Defer(bool isTag, string name, TimeSpan lifetime, Exception? failure)
    {
        string kind = isTag ? "tag" : "key";
        Log.RedisEvictFailed(_logger, kind, name, failure);
        _metrics.EvictionDeferred();
        switch (_pending.Add(isTag, name, lifetime))
        {
            case PendingAddition.First:
                Log.EvictionsPending(_logger, kind, name);
                break;
            case PendingAddition.Overflowed:
                Overflowed();
                break;
        }
        Start();
    }

    private void Overflowed()
    {
        // Forgotten, so Redis is not read until every entry that might have missed it has expired.
        _metrics.EvictionLost();
        DateTimeOffset until = DateTimeOffset.UtcNow + TimeSpan.FromTicks(Volatile.Read(ref _longestLifetimeTicks));
        if (_pending.BypassUntil(until))
            Log.PendingEvictionsOverflowed(_logger, _maximumPending, until);
    }

    /// <summary>
    /// Remembers a key eviction Redis confirmed, for the longest entry lifetime (an entry it evicted cannot outlive
    /// that). Bounded by <see cref="CacheGenOptions.MaximumPendingEvictions"/>: past it, the evictions that run out first
    /// are forgotten.
    /// </summary>
    public void KeyEvictionConfirmed(string key)
    {
        long until = Environment.TickCount64 + (long)TimeSpan.FromTicks(Volatile.Read(ref _longestLifetimeTicks)).TotalMilliseconds;
        if (!_recentKeyEvictions.TryAdd(key, until))
            _recentKeyEvictions[key] = until;
        else if (Interlocked.Increment(ref _recentCount) > _maximumPending)
            TrimRecentKeyEvictions();
    }

    private void TrimRecentKeyEvictions()
    {
        if (Interlocked.Exchange(ref _trimmingRecent, 1) == 1)
            return;
        try
        {
            long now = Environment.TickCount64;
            foreach (KeyValuePair<string, long> eviction in _recentKeyEvictions)
            {
                if (eviction.Value <= now)
                    ForgetRecent(eviction);
            }
            int excess = Volatile.Read(ref _recentCount) - _maximumPending + _maximumPending / 10;
            if (excess <= 0)
                return;
            KeyValuePair<string, long>[] all = [.. _recentKeyEvictions];
            Array.Sort(all, static (a, b) => a.Value.CompareTo(b.Value));
            for (int i = 0; i < excess && i < all.Length; i++)
                ForgetRecent(all[i]);
        }
        finally
        {
            Volatile.Write(ref _trimmingRecent, 0);
        }
    }

    private void ForgetRecent(KeyValuePair<string, long> eviction)
    {
        if (_recentKeyEvictions.TryRemove(eviction))
            Interlocked.Decrement(ref _recentCount);
    }

    /// <summary>
    /// A Redis connection dropped. The server may come back from an older snapshot (or AOF that lost its last second)
    /// without the tombstones this instance wrote: they become pending again, so those keys are not read from Redis here
    /// until the tombstones are written anew. (Tag evictions need nothing here: a generation that moved back is caught
    /// when it is read, see <see cref="GenerationFloors"/>.) On a mere network blip this costs a miss per key.
    /// </summary>
    public void ConnectionLost()
    {
        long now = Environment.TickCount64;
        int reapplied = 0;
        foreach (KeyValuePair<string, long> eviction in _recentKeyEvictions)
        {
            if (eviction.Value <= now)
            {
                ForgetRecent(eviction);
                continue;
            }
            TimeSpan left = TimeSpan.FromMilliseconds(eviction.Value - now);
            if (_pending.Add(isTag: false, eviction.Key, left) == PendingAddition.Overflowed)
            {
                Overflowed();
                break;
            }
            reapplied++;
        }
        if (reapplied == 0)
            return;
        Log.KeyEvictionsReapplied(_logger, reapplied);
        Start();
    }

    /// <summary>Probe now rather than at the end of the break: the client says Redis is reachable again.</summary>
    public void Wake()
    {
        // Only a running loop waits on it; a stray release would cut a later loop's first break short.
        if (NeedsRecovery && _wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already woken.
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private bool NeedsRecovery => !_policy.AllowsCalls || !_pending.IsEmpty;

    private void Start()
    {
        if (!_stopToken.IsCancellationRequested && Interlocked.CompareExchange(ref _recovering, 1, 0) == 0)
            _ = Task.Run(RecoverAsync, CancellationToken.None);
    }

    /// <summary>
    /// Runs while the breaker is open or evictions are pending. Open: after each break, the probe (half-open) replays
    /// every pending eviction, or PINGs when there is none, and closes the breaker once Redis confirmed them all; so
    /// no request reads Redis before the evictions it missed are back in it. Closed with evictions pending (a single
    /// timeout, say): replays them, retrying after 100 ms, then doubling up to the break duration. Replayed evictions
    /// are then published to the other instances.
    /// </summary>
    private async Task RecoverAsync()
    {
        TimeSpan retry = FirstRetry;
        int replayedInEpisode = 0;
        while (!_stopToken.IsCancellationRequested)
        {
            bool open = !_policy.AllowsCalls;
            try
            {
                await _wake.WaitAsync(open ? _policy.BreakDuration : retry, _stopToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            bool probing = _policy.TryBeginProbe();
            List<PendingEviction> replayed = [];
            Exception? failure = await ReplayAsync(replayed).ConfigureAwait(false);
            if (failure is null && probing && replayed.Count == 0)
                failure = await PingAsync().ConfigureAwait(false);
            replayedInEpisode += replayed.Count;
            if (replayed.Count > 0)
                _metrics.EvictionsReplayed(replayed.Count);

            if (failure is not null)
            {
                if (probing)
                    _policy.ProbeFailed(failure);
                else
                    _policy.Failed(failure);
                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, _policy.BreakDuration.Ticks));
            }
            else
            {
                retry = FirstRetry;
                if (probing)
                    _policy.ProbeSucceeded();
            }

            // Published after the breaker closed: a closed breaker is what lets the publish through.
            if (EvictionReplayed is { } publish)
            {
                foreach (PendingEviction eviction in replayed)
                    await publish(eviction.Name, eviction.IsTag).ConfigureAwait(false);
            }

            if (_pending.IsEmpty && replayedInEpisode > 0)
            {
                Log.EvictionsReplayed(_logger, replayedInEpisode);
                replayedInEpisode = 0;
            }
            if (!NeedsRecovery)
            {
                Volatile.Write(ref _recovering, 0);
                // Something may have failed between the check and the reset: then this loop carries on.
                if (!NeedsRecovery || Interlocked.CompareExchange(ref _recovering, 1, 0) != 0)
                    return;
            }
        }
    }

    /// <summary>Replays the pending evictions (many at a time). Returns the first failure, or null if Redis confirmed them all.</summary>
    private async Task<Exception?> ReplayAsync(List<PendingEviction> replayed)
    {
        const int BatchSize = 256;
        List<PendingEviction> pending = _pending.Snapshot();
        for (int start = 0; start < pending.Count; start += BatchSize)
        {
            PendingEviction[] batch = [.. pending.Skip(start).Take(BatchSize)];
            Task[] calls = Array.ConvertAll(batch, eviction => _replay(eviction, _stopToken));
            try
            {
                await Task.WhenAll(calls).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Looked at per call below: the ones that went through are done.
            }
            Exception? failure = null;
            for (int i = 0; i < batch.Length; i++)
            {
                if (calls[i].IsCompletedSuccessfully)
                {
                    _pending.Remove(batch[i]);
                    replayed.Add(batch[i]);
                }
                else
                {
                    failure ??= calls[i].Exception?.InnerException ?? new OperationCanceledException();
                }
            }
            if (failure is not null)
                return failure;
        }
        return null;
    }

    private async Task<Exception?> PingAsync()
    {
        try
        {
            await _ping(_stopToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    public void Dispose()
    {
        if (!_stop.IsCancellationRequested)
            _stop.Cancel();
    }
}
