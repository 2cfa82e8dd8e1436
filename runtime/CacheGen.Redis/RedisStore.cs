using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CacheGen.Redis;

/// <summary>What a read of one entry found.</summary>
internal readonly struct RedisRead
{
    /// <summary>False when Redis could not answer in time: a miss that must not be written back (no generations to guard with).</summary>
    public bool Succeeded { get; init; }

    /// <summary>The bytes under the entry key, or null when there were none.</summary>
    public byte[]? Value { get; init; }

    /// <summary>The current generation of each tag, in tag order.</summary>
    public long[] Generations { get; init; }

    public static RedisRead Failed => new() { Generations = [] };
}

/// <summary>
/// Everything CacheGen sends to Redis: the connection (made in the background, so the application starts while Redis
/// is down), the scripts, the time bound on every call, the circuit breaker in front of them, and the evictions Redis
/// could not confirm. Failures are counted here and reported as "no answer"; nothing but the caller's own
/// cancellation escapes.
/// </summary>
internal sealed class RedisStore : IAsyncDisposable, IDisposable
{
    /// <summary>
    /// Deletes whichever of KEYS holds something other than a string (or nothing): the one kind of foreign data a
    /// read cannot skip, since every command on the key fails. A deleted generation key reads as a region eviction.
    /// </summary>
    private const string DeleteNonStrings = """
        local deleted = 0
        for i = 1, #KEYS do
          local kind = redis.call('TYPE', KEYS[i])['ok']
          if kind ~= 'string' and kind ~= 'none' then
            redis.call('DEL', KEYS[i])
            deleted = deleted + 1
          end
        end
        return deleted
        """;

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);

    private readonly ConfigurationOptions _configuration;
    private readonly RedisKeyLayout _keys;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _breakDuration;
    private readonly int _failuresToOpen;
    private readonly int _maximumPending;
    private readonly ILogger _logger;
    private readonly CacheMetrics _metrics;
    private readonly Task<ConnectionMultiplexer?> _connection;
    private readonly CircuitBreaker _breaker;
    private readonly PendingEvictions _pending;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationToken _stopToken;
    private long _longestLifetimeTicks;
    private long _openedAt;
    private int _recovering;

    private static readonly ConfigurationOptions ClientDefaults = new();

    public RedisStore(CacheGenOptions options, RedisKeyLayout keys, ILogger logger, CacheMetrics metrics)
    {
        _keys = keys;
        _timeout = options.RedisTimeout;
        _breakDuration = options.CircuitBreakerDuration;
        _failuresToOpen = options.CircuitBreakerFailures;
        _maximumPending = options.MaximumPendingEvictions;
        _longestLifetimeTicks = options.DefaultExpiration.Ticks;
        _logger = logger;
        _metrics = metrics;
        _breaker = new CircuitBreaker(options.CircuitBreakerFailures);
        _pending = new PendingEvictions(options.MaximumPendingEvictions);
        _stopToken = _stop.Token;
        _configuration = ConfigurationOptions.Parse(options.Redis!);
        // The client's default tie-breaker key and configuration channel lie outside the key prefix, where an ACL user
        // limited to it is refused. CacheGen needs no tie-breaker; the channel moves under the prefix (the client
        // subscribes to it as it connects, which readies the pub/sub connection for the backplane).
        if (_configuration.TieBreaker == ClientDefaults.TieBreaker)
            _configuration.TieBreaker = "";
        if (_configuration.ConfigurationChannel == ClientDefaults.ConfigurationChannel)
            _configuration.ConfigurationChannel = keys.Prefix + "cachegen:config";
        // CONFIG is an admin command (CONFIG GET reveals requirepass) that the client uses only for tuning; leave it
        // out so the ACL user needs no admin rights. A command map the user chose is kept.
        if (ReferenceEquals(_configuration.CommandMap, CommandMap.Default))
            _configuration.CommandMap = CommandMap.Create(new HashSet<string> { "CONFIG" }, available: false);
        // The user's TLS trust, client certificate, credentials...; the settings below, which the outage behaviour
        // depends on, are applied after it.
        options.ConfigureRedis?.Invoke(_configuration);
        // Start while Redis is down and reconnect by itself; a cache must never keep the application from starting.
        _configuration.AbortOnConnectFail = false;
        // Chosen on purpose: while disconnected, fail at once (the call falls through to the data) instead of queueing
        // commands until the connection is back. A backlog would make every request wait up to the timeout during an
        // outage, and would later send writes computed long ago. Those failures also open the circuit breaker quickly.
        _configuration.BacklogPolicy = BacklogPolicy.FailFast;
        // The client's own timeouts match ours, so a command abandoned by Bounded is also given up by the client.
        int timeoutMs = (int)Math.Clamp(_timeout.TotalMilliseconds, 1, int.MaxValue);
        _configuration.AsyncTimeout = timeoutMs;
        _configuration.SyncTimeout = timeoutMs;

        Log.RedisConfigured(_logger, _configuration.ToString(includePassword: false), keys.Prefix);
        _connection = ConnectAsync();
    }

    /// <summary>Raised when a connection is (re)established; messages sent while it was down may have been lost.</summary>
    public event Action<ConnectionType>? Reconnected;

    /// <summary>Raised when a connection fails; pub/sub messages may be lost until it is back.</summary>
    public event Action<ConnectionType>? Disconnected;

    /// <summary>Awaited for each eviction replayed in Redis (key or tag name, true for a tag), to tell other instances.</summary>
    public Func<string, bool, ValueTask>? EvictionReplayed { get; set; }

    /// <summary>The circuit breaker's state (tests).</summary>
    public BreakerState BreakerState => _breaker.State;

    /// <summary>How many evictions wait to be replayed (tests).</summary>
    public int PendingEvictionCount => _pending.Count;

    /// <summary>The connection, however long it takes to set up (the backplane subscribes in the background).</summary>
    public Task<ConnectionMultiplexer?> WaitForConnectionAsync() => _connection;

    /// <summary>The connection, waiting for it no longer than the Redis timeout.</summary>
    private async ValueTask<ConnectionMultiplexer?> GetConnectionAsync(CancellationToken cancellationToken)
    {
        Task<ConnectionMultiplexer?> connecting = _connection;
        if (!connecting.IsCompleted)
            await connecting.WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
        return connecting.Result;
    }

    private async Task<ConnectionMultiplexer?> ConnectAsync()
    {
        try
        {
            ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(_configuration).ConfigureAwait(false);
            connection.ConnectionFailed += (_, e) =>
            {
                _metrics.RedisError();
                Log.RedisConnectionFailed(_logger, e.EndPoint?.ToString(), e.ConnectionType, e.FailureType);
                Disconnected?.Invoke(e.ConnectionType);
            };
            connection.ConnectionRestored += (_, e) =>
            {
                Log.RedisConnectionRestored(_logger, e.EndPoint?.ToString(), e.ConnectionType);
                // Probe now rather than at the end of the break: the client says Redis is reachable again.
                WakeRecovery();
                Reconnected?.Invoke(e.ConnectionType);
            };
            // A failure during the first connect was raised before the handlers above existed (a refused TLS
            // certificate, a wrong password, Redis down): say so once. PING fails fast while disconnected and its
            // error carries the client's reason.
            if (!connection.IsConnected)
            {
                try
                {
                    await connection.GetDatabase().PingAsync().ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    Log.RedisNotConnectedAtStart(_logger, string.Join(",", connection.GetEndPoints().Select(p => p.ToString())), e);
                }
            }
            return connection;
        }
        catch (Exception e)
        {
            // With AbortOnConnectFail off this is a configuration the client cannot use at all; stay in-process.
            Log.RedisConnectFailed(_logger, e);
            return null;
        }
    }

    private async ValueTask<IDatabase> GetDatabaseAsync(CancellationToken cancellationToken)
    {
        ConnectionMultiplexer? connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        // The database index comes from the configuration string (defaultDatabase=N).
        return connection?.GetDatabase() ?? throw new InvalidOperationException("CacheGen has no Redis connection.");
    }

    /// <summary>Bounds <paramref name="pending"/> by the Redis timeout; a call abandoned by the bound has its fault observed.</summary>
    private async Task<TResult> Bounded<TResult>(Task<TResult> pending, CancellationToken cancellationToken)
    {
        try
        {
            return await pending.WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
        }
        catch when (!pending.IsCompleted)
        {
            _ = pending.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw;
        }
    }

    private static bool IsFailure(Exception e, CancellationToken cancellationToken) =>
        !(e is OperationCanceledException && cancellationToken.IsCancellationRequested);

    /// <summary>A non-string value under one of our keys: foreign data, not an outage (Redis answered).</summary>
    private static bool IsWrongType(RedisServerException e) => e.Message.Contains("WRONGTYPE", StringComparison.Ordinal);

    /// <summary>Whether a call may go to Redis; counts the ones the open breaker stops.</summary>
    private bool Admit()
    {
        if (_breaker.AllowsCalls)
            return true;
        _metrics.ShortCircuit();
        return false;
    }

    /// <summary>A call that Redis answered.</summary>
    private void Succeeded() => _breaker.RecordSuccess();

    /// <summary>A call that failed or timed out: counted, and it may open the breaker (logged once, here).</summary>
    private void Failed(Exception failure)
    {
        _metrics.RedisError();
        if (!_breaker.RecordFailure())
            return;
        Volatile.Write(ref _openedAt, Stopwatch.GetTimestamp());
        _metrics.BreakerTransition(BreakerState.Open);
        Log.CircuitBreakerOpened(_logger, _failuresToOpen, (long)_breakDuration.TotalMilliseconds, failure);
        StartRecovery();
    }

    /// <summary>
    /// Whether this call must not use Redis for <paramref name="key"/>: an eviction of it or of one of its tags is not
    /// confirmed yet, or more evictions were lost than could be remembered. A miss, not a failure.
    /// </summary>
    private bool MustSkip(string key, string[] tags) => !_pending.IsEmpty && _pending.Covers(key, tags) || _pending.IsBypassing;

    private void NoteLifetime(TimeSpan lifetime)
    {
        long ticks = lifetime.Ticks;
        long current = Volatile.Read(ref _longestLifetimeTicks);
        while (ticks > current)
        {
            long seen = Interlocked.CompareExchange(ref _longestLifetimeTicks, ticks, current);
            if (seen == current)
                return;
            current = seen;
        }
    }

    private static long RandomGeneration() => Random.Shared.NextInt64(1L << 52);

    private static RedisValue[] RandomGenerations(int count)
    {
        var values = new RedisValue[count];
        for (int i = 0; i < values.Length; i++)
            values[i] = RandomGeneration();
        return values;
    }

    /// <summary>Deletes non-string values under <paramref name="keys"/> after a WRONGTYPE reply: logged once, counted, repaired.</summary>
    private async ValueTask RepairWrongTypeAsync(IDatabase database, RedisKey[] keys, string name)
    {
        _metrics.CorruptEntry("wrong_type");
        Log.CorruptEntry(_logger, name, "a Redis value that is not a string (WRONGTYPE); the key was deleted");
        try
        {
            await Bounded(database.ScriptEvaluateAsync(DeleteNonStrings, keys), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Left in place, it is found (and deleted) again on the next read.
            Failed(e);
            Log.RedisWriteFailed(_logger, name, e);
        }
    }

    /// <summary>One round trip: the entry's bytes and its tags' current generations (created when missing).</summary>
    public async ValueTask<RedisRead> ReadAsync(string key, string[] tags, CancellationToken cancellationToken)
    {
        if (MustSkip(key, tags) || !Admit())
            return RedisRead.Failed;
        IDatabase? database = null;
        try
        {
            database = await GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            if (SpansClusterSlots(database, key, tags))
                return RedisRead.Failed;
            RedisRead read;
            if (tags.Length == 0)
            {
                RedisValue value = await Bounded(database.StringGetAsync(_keys.Entry(key)), cancellationToken).ConfigureAwait(false);
                read = new RedisRead { Succeeded = true, Value = value.IsNull ? null : (byte[])value!, Generations = [] };
            }
            else
            {
                // One MGET: atomic like the script, and far cheaper for Redis to run. Only a missing generation (to be
                // created, or a non-string that MGET shows as nil) goes on to the script. An entry MGET shows as missing
                // may be a non-string too: the guarded write finds that out (WRONGTYPE) before it would overwrite it.
                RedisKey[] keys = _keys.EntryAndGenerations(key, tags);
                RedisValue[] values = await Bounded(database.StringGetAsync(keys), cancellationToken).ConfigureAwait(false);
                if (Array.FindIndex(values, 1, static v => v.IsNull) < 0)
                {
                    Succeeded();
                    return new RedisRead { Succeeded = true, Value = values[0].IsNull ? null : (byte[])values[0]!, Generations = ParseGenerations(values) };
                }
                RedisResult result = await Bounded(
                    database.ScriptEvaluateAsync(LuaScripts.Read, keys, RandomGenerations(tags.Length)),
                    cancellationToken).ConfigureAwait(false);
                var generations = new long[tags.Length];
                for (int i = 0; i < generations.Length; i++)
                    generations[i] = long.Parse((string)result[i + 1]!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                RedisResult entry = result[0];
                read = new RedisRead { Succeeded = true, Value = entry.IsNull ? null : (byte[])entry!, Generations = generations };
            }
            Succeeded();
            return read;
        }
        catch (RedisServerException e) when (IsWrongType(e))
        {
            // A miss that is not written back (nothing guards the write); the next fill finds the key empty and fills it.
            Succeeded();
            await RepairWrongTypeAsync(database!, _keys.EntryAndGenerations(key, tags), key).ConfigureAwait(false);
            return RedisRead.Failed;
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            Failed(e);
            Log.RedisReadFailed(_logger, key, e);
            return RedisRead.Failed;
        }
    }

    private static long[] ParseGenerations(RedisValue[] values)
    {
        var generations = new long[values.Length - 1];
        for (int i = 0; i < generations.Length; i++)
        {
            if (!values[i + 1].TryParse(out long generation))
                throw new RedisException("A generation key holds something other than a number.");
            generations[i] = generation;
        }
        return generations;
    }

    /// <summary>
    /// The stale-set guard: writes <paramref name="envelope"/> only if the entry key still holds what
    /// <paramref name="read"/> saw and every tag generation is unchanged. Returns true if it was written, false if the
    /// guard rejected it, null if Redis failed (logged) or was not called.
    /// </summary>
    public async ValueTask<bool?> GuardedWriteAsync(string key, string[] tags, RedisRead read, byte[] envelope, TimeSpan expiration, CancellationToken cancellationToken)
    {
        // An eviction that failed since the read: Redis may not have seen it, so nothing computed before it goes there.
        if (MustSkip(key, tags) || !Admit())
            return null;
        NoteLifetime(expiration);
        IDatabase? database = null;
        try
        {
            database = await GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            var arguments = new RedisValue[4 + tags.Length];
            arguments[0] = envelope;
            arguments[1] = ToMilliseconds(expiration);
            arguments[2] = read.Value is null ? "0" : "1";
            arguments[3] = read.Value is null ? RedisValue.EmptyString : Envelope.StampOf(read.Value);
            for (int i = 0; i < tags.Length; i++)
                arguments[4 + i] = read.Generations[i];
            RedisResult written = await Bounded(
                database.ScriptEvaluateAsync(LuaScripts.GuardedSet, _keys.EntryAndGenerations(key, tags), arguments),
                cancellationToken).ConfigureAwait(false);
            Succeeded();
            return (long)written == 1;
        }
        catch (RedisServerException e) when (IsWrongType(e))
        {
            Succeeded();
            await RepairWrongTypeAsync(database!, _keys.EntryAndGenerations(key, tags), key).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            Failed(e);
            Log.RedisWriteFailed(_logger, key, e);
            return null;
        }
    }

    /// <summary>Returns the tags' current generations (creating missing ones), or null when Redis did not answer or must not be used.</summary>
    public async ValueTask<long[]?> GetGenerationsAsync(string key, string[] tags, CancellationToken cancellationToken)
    {
        if (MustSkip(key, tags))
            return null;
        if (tags.Length == 0)
            return [];
        if (!Admit())
            return null;
        IDatabase? database = null;
        var keys = new RedisKey[tags.Length];
        for (int i = 0; i < tags.Length; i++)
            keys[i] = _keys.Generation(tags[i]);
        try
        {
            database = await GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            if (SpansClusterSlots(database, key, tags))
                return null;
            RedisResult result = await Bounded(
                database.ScriptEvaluateAsync(LuaScripts.Generations, keys, RandomGenerations(tags.Length)),
                cancellationToken).ConfigureAwait(false);
            var generations = new long[tags.Length];
            for (int i = 0; i < generations.Length; i++)
                generations[i] = long.Parse((string)result[i]!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            Succeeded();
            return generations;
        }
        catch (RedisServerException e) when (IsWrongType(e))
        {
            Succeeded();
            await RepairWrongTypeAsync(database!, keys, key).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            Failed(e);
            Log.RedisWriteFailed(_logger, key, e);
            return null;
        }
    }

    /// <summary>An unconditional write (SetAsync).</summary>
    public async ValueTask WriteAsync(string key, byte[] envelope, TimeSpan expiration, CancellationToken cancellationToken)
    {
        if (MustSkip(key, []) || !Admit())
            return;
        NoteLifetime(expiration);
        try
        {
            IDatabase database = await GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            await Bounded(database.StringSetAsync(_keys.Entry(key), envelope, expiration), cancellationToken).ConfigureAwait(false);
            Succeeded();
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            Failed(e);
            Log.RedisWriteFailed(_logger, key, e);
        }
    }

    /// <summary>
    /// Single-entry eviction: a tombstone with a fresh stamp rather than DEL, so a reader that saw the old entry (or
    /// nothing) and is still computing fails its guarded write. Returns false if Redis did not confirm it; it is then
    /// pending (see <see cref="PendingEvictions"/>) and replayed when Redis answers.
    /// </summary>
    public async ValueTask<bool> TombstoneAsync(string key, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        if (!Admit())
        {
            Defer(isTag: false, key, lifetime, null);
            return false;
        }
        try
        {
            await WriteTombstoneAsync(key, lifetime, cancellationToken).ConfigureAwait(false);
            Succeeded();
            return true;
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            Failed(e);
            Defer(isTag: false, key, lifetime, e);
            return false;
        }
        catch (OperationCanceledException)
        {
            // The caller gave up, but the eviction may not have reached Redis: it is still owed.
            Defer(isTag: false, key, lifetime, null);
            throw;
        }
    }

    /// <summary>Region eviction, O(1): bump the tag's generation; entries are left to expire. False (and pending) if not confirmed.</summary>
    public async ValueTask<bool> EvictTagAsync(string tag, CancellationToken cancellationToken)
    {
        if (!Admit())
        {
            Defer(isTag: true, tag, TimeSpan.Zero, null);
            return false;
        }
        try
        {
            await BumpGenerationAsync(tag, cancellationToken).ConfigureAwait(false);
            Succeeded();
            return true;
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            Failed(e);
            Defer(isTag: true, tag, TimeSpan.Zero, e);
            return false;
        }
        catch (OperationCanceledException)
        {
            // The caller gave up, but the eviction may not have reached Redis: it is still owed.
            Defer(isTag: true, tag, TimeSpan.Zero, null);
            throw;
        }
    }

    private async Task WriteTombstoneAsync(string key, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        IDatabase database = await GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        // SET replaces a value of any type, so a tombstone also repairs foreign data under the key.
        await Bounded(database.StringSetAsync(_keys.Entry(key), Envelope.CreateTombstone(), lifetime), cancellationToken).ConfigureAwait(false);
    }

    private async Task BumpGenerationAsync(string tag, CancellationToken cancellationToken)
    {
        IDatabase database = await GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        RedisKey generation = _keys.Generation(tag);
        try
        {
            await Bounded(database.ScriptEvaluateAsync(LuaScripts.Evict, [generation], [RandomGeneration()]), cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (IsWrongType(e))
        {
            // Deleting the foreign value is itself the eviction: the next read starts the generation at a random value.
            await RepairWrongTypeAsync(database, [generation], tag).ConfigureAwait(false);
        }
    }

    /// <summary>Remembers an eviction Redis did not confirm, and makes sure the recovery loop will replay it.</summary>
    private void Defer(bool isTag, string name, TimeSpan lifetime, Exception? failure)
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
                // Forgotten, so Redis is not read until every entry that might have missed it has expired.
                _metrics.EvictionLost();
                DateTimeOffset until = DateTimeOffset.UtcNow + TimeSpan.FromTicks(Volatile.Read(ref _longestLifetimeTicks));
                if (_pending.BypassUntil(until))
                    Log.PendingEvictionsOverflowed(_logger, _maximumPending, until);
                break;
        }
        StartRecovery();
    }

    private void WakeRecovery()
    {
        // Only a running recovery loop waits on it; a stray release would cut a later loop's first break short.
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

    private bool NeedsRecovery => !_breaker.AllowsCalls || !_pending.IsEmpty;

    private void StartRecovery()
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
            bool open = !_breaker.AllowsCalls;
            try
            {
                await _wake.WaitAsync(open ? _breakDuration : retry, _stopToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            bool probing = _breaker.TryBeginProbe();
            if (probing)
                _metrics.BreakerTransition(BreakerState.HalfOpen);
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
                {
                    _breaker.ProbeFailed();
                    _metrics.BreakerTransition(BreakerState.Open);
                    Log.CircuitBreakerProbeFailed(_logger, failure);
                }
                else
                {
                    Failed(failure);
                }
                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, _breakDuration.Ticks));
            }
            else
            {
                retry = FirstRetry;
                if (probing && _breaker.TryClose())
                {
                    _metrics.BreakerTransition(BreakerState.Closed);
                    Log.CircuitBreakerClosed(_logger, (long)Stopwatch.GetElapsedTime(Volatile.Read(ref _openedAt)).TotalMilliseconds);
                }
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
            Task[] calls = Array.ConvertAll(batch, eviction => eviction.IsTag
                ? BumpGenerationAsync(eviction.Name, _stopToken)
                : WriteTombstoneAsync(eviction.Name, eviction.Lifetime, _stopToken));
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
            IDatabase database = await GetDatabaseAsync(_stopToken).ConfigureAwait(false);
            await Bounded(database.PingAsync(), _stopToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>
    /// Tries to take the cross-instance fill lease of <paramref name="key"/> (<c>SET NX PX</c>). Returns true if taken,
    /// false if another instance holds it, null if Redis failed (logged; the caller runs the data call unprotected).
    /// </summary>
    public async ValueTask<bool?> TryAcquireLeaseAsync(string key, string token, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        if (!Admit())
            return null;
        try
        {
            IDatabase database = await GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            bool taken = await Bounded(database.StringSetAsync(_keys.Lease(key), token, lifetime, When.NotExists), cancellationToken).ConfigureAwait(false);
            Succeeded();
            return taken;
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            Failed(e);
            Log.RedisWriteFailed(_logger, key, e);
            return null;
        }
    }

    /// <summary>Releases the lease if it is still ours (compare and delete); a failure leaves it to its TTL.</summary>
    public async ValueTask ReleaseLeaseAsync(string key, string token)
    {
        if (!Admit())
            return;
        try
        {
            IDatabase database = await GetDatabaseAsync(CancellationToken.None).ConfigureAwait(false);
            await Bounded(database.ScriptEvaluateAsync(LuaScripts.ReleaseLease, [_keys.Lease(key)], [token]), CancellationToken.None).ConfigureAwait(false);
            Succeeded();
        }
        catch (Exception e)
        {
            Failed(e);
            Log.RedisWriteFailed(_logger, key, e);
        }
    }

    /// <summary>Publishes a backplane message; a lost message is bounded by the in-process lifetime. Says whether it was sent.</summary>
    public async ValueTask<bool> PublishAsync(RedisValue message, CancellationToken cancellationToken)
    {
        if (!Admit())
            return false;
        try
        {
            ConnectionMultiplexer? connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
            if (connection is null)
                return false;
            await Bounded(connection.GetSubscriber().PublishAsync(_keys.EvictionChannel, message), cancellationToken).ConfigureAwait(false);
            Succeeded();
            return true;
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            Failed(e);
            Log.BackplanePublishFailed(_logger, e);
            return false;
        }
    }

    private int _crossSlotLogged;

    /// <summary>
    /// True on a Redis Cluster when the entry key and its tags' generation keys fall in different hash slots: no script
    /// can touch them together (CROSSSLOT), so the entry stays out of Redis (in-process only) without counting as a Redis
    /// failure. Logged once per instance. On a single server every slot is the same (-1), so never.
    /// </summary>
    private bool SpansClusterSlots(IDatabase database, string key, string[] tags)
    {
        IConnectionMultiplexer connection = database.Multiplexer;
        int slot = connection.HashSlot(_keys.Entry(key));
        foreach (string tag in tags)
        {
            if (connection.HashSlot(_keys.Generation(tag)) != slot)
            {
                if (Interlocked.Exchange(ref _crossSlotLogged, 1) == 0)
                    Log.EntrySpansClusterSlots(_logger, key, string.Join(", ", tags));
                return true;
            }
        }
        return false;
    }

    private static long ToMilliseconds(TimeSpan span) => Math.Max(1, (long)Math.Ceiling(span.TotalMilliseconds));

    private void StopRecovery()
    {
        if (!_stop.IsCancellationRequested)
            _stop.Cancel();
    }

    public void Dispose()
    {
        StopRecovery();
        // Still connecting: close the connection when it is made rather than block here.
        if (_connection.IsCompletedSuccessfully)
            _connection.Result?.Dispose();
        else
            _ = _connection.ContinueWith(static t => t.Result?.Dispose(), CancellationToken.None,
                TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
    }

    public async ValueTask DisposeAsync()
    {
        StopRecovery();
        if (_connection.IsCompletedSuccessfully && _connection.Result is { } connection)
            await connection.DisposeAsync().ConfigureAwait(false);
        else
            Dispose();
    }
}
