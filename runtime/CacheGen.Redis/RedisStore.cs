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
/// is down), the scripts, and the time bound on every call. Failures are logged here and reported as "no answer";
/// nothing but the caller's own cancellation escapes.
/// </summary>
internal sealed class RedisStore : IAsyncDisposable, IDisposable
{
    private readonly ConfigurationOptions _configuration;
    private readonly RedisKeyLayout _keys;
    private readonly TimeSpan _timeout;
    private readonly ILogger _logger;
    private readonly CacheMetrics _metrics;
    private readonly Task<ConnectionMultiplexer?> _connection;

    private static readonly ConfigurationOptions ClientDefaults = new();

    public RedisStore(string configuration, RedisKeyLayout keys, TimeSpan timeout, ILogger logger, CacheMetrics metrics,
        Action<ConfigurationOptions>? configureRedis = null)
    {
        _keys = keys;
        _timeout = timeout;
        _logger = logger;
        _metrics = metrics;
        _configuration = ConfigurationOptions.Parse(configuration);
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
        configureRedis?.Invoke(_configuration);
        // Start while Redis is down and reconnect by itself; a cache must never keep the application from starting.
        _configuration.AbortOnConnectFail = false;
        // While disconnected, fail at once (the call falls through to the data) instead of queueing behind a timeout.
        _configuration.BacklogPolicy = BacklogPolicy.FailFast;
        int timeoutMs = (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue);
        _configuration.AsyncTimeout = timeoutMs;
        _configuration.SyncTimeout = timeoutMs;

        Log.RedisConfigured(_logger, _configuration.ToString(includePassword: false), keys.Prefix);
        _connection = ConnectAsync();
    }

    /// <summary>Raised when a connection is (re)established; messages sent while it was down may have been lost.</summary>
    public event Action<ConnectionType>? Reconnected;

    /// <summary>Raised when a connection fails; pub/sub messages may be lost until it is back.</summary>
    public event Action<ConnectionType>? Disconnected;

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

    private static long RandomGeneration() => Random.Shared.NextInt64(1L << 52);

    private static RedisValue[] RandomGenerations(int count)
    {
        var values = new RedisValue[count];
        for (int i = 0; i < values.Length; i++)
            values[i] = RandomGeneration();
        return values;
    }

    /// <summary>One round trip: the entry's bytes and its tags' current generations (created when missing).</summary>
    public async ValueTask<RedisRead> ReadAsync(string key, string[] tags, CancellationToken cancellationToken)
    {
        try
        {
            IDatabase database = await GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            if (SpansClusterSlots(database, key, tags))
                return RedisRead.Failed;
            if (tags.Length == 0)
            {
                RedisValue value = await Bounded(database.StringGetAsync(_keys.Entry(key)), cancellationToken).ConfigureAwait(false);
                return new RedisRead { Succeeded = true, Value = value.IsNull ? null : (byte[])value!, Generations = [] };
            }

            RedisResult result = await Bounded(
                database.ScriptEvaluateAsync(LuaScripts.Read, _keys.EntryAndGenerations(key, tags), RandomGenerations(tags.Length)),
                cancellationToken).ConfigureAwait(false);
            var generations = new long[tags.Length];
            for (int i = 0; i < generations.Length; i++)
                generations[i] = long.Parse((string)result[i + 1]!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            RedisResult entry = result[0];
            return new RedisRead { Succeeded = true, Value = entry.IsNull ? null : (byte[])entry!, Generations = generations };
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            _metrics.RedisError();
            Log.RedisReadFailed(_logger, key, e);
            return RedisRead.Failed;
        }
    }

    /// <summary>
    /// The stale-set guard: writes <paramref name="envelope"/> only if the entry key still holds what
    /// <paramref name="read"/> saw and every tag generation is unchanged. Returns true if it was written, false if the
    /// guard rejected it, null if Redis failed (logged).
    /// </summary>
    public async ValueTask<bool?> GuardedWriteAsync(string key, string[] tags, RedisRead read, byte[] envelope, TimeSpan expiration, CancellationToken cancellationToken)
    {
        try
        {
            IDatabase database = await GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
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
            return (long)written == 1;
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            _metrics.RedisError();
            Log.RedisWriteFailed(_logger, key, e);
            return null;
        }
    }

    /// <summary>Returns the tags' current generations (creating missing ones), or null when Redis did not answer.</summary>
    public async ValueTask<long[]?> GetGenerationsAsync(string key, string[] tags, CancellationToken cancellationToken)
    {
        if (tags.Length == 0)
            return [];
        try
        {
            IDatabase database = await GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            if (SpansClusterSlots(database, key, tags))
                return null;
            var keys = new RedisKey[tags.Length];
            for (int i = 0; i < tags.Length; i++)
                keys[i] = _keys.Generation(tags[i]);
            RedisResult result = await Bounded(
                database.ScriptEvaluateAsync(LuaScripts.Generations, keys, RandomGenerations(tags.Length)),
                cancellationToken).ConfigureAwait(false);
            var generations = new long[tags.Length];
            for (int i = 0; i < generations.Length; i++)
                generations[i] = long.Parse((string)result[i]!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            return generations;
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            _metrics.RedisError();
            Log.RedisWriteFailed(_logger, key, e);
            return null;
        }
    }

    /// <summary>An unconditional write (SetAsync).</summary>
    public async ValueTask WriteAsync(string key, byte[] envelope, TimeSpan expiration, CancellationToken cancellationToken)
    {
        try
        {
            IDatabase database = await GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            await Bounded(database.StringSetAsync(_keys.Entry(key), envelope, expiration), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            _metrics.RedisError();
            Log.RedisWriteFailed(_logger, key, e);
        }
    }

    /// <summary>
    /// Single-entry eviction: a tombstone with a fresh stamp rather than DEL, so a reader that saw the old entry (or
    /// nothing) and is still computing fails its guarded write.
    /// </summary>
    public async ValueTask<bool> TombstoneAsync(string key, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        try
        {
            IDatabase database = await GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            await Bounded(database.StringSetAsync(_keys.Entry(key), Envelope.CreateTombstone(), lifetime), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            _metrics.RedisError();
            Log.RedisEvictFailed(_logger, "key", key, e);
            return false;
        }
    }

    /// <summary>Region eviction, O(1): bump the tag's generation; entries are left to expire.</summary>
    public async ValueTask<bool> EvictTagAsync(string tag, CancellationToken cancellationToken)
    {
        try
        {
            IDatabase database = await GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            await Bounded(database.ScriptEvaluateAsync(LuaScripts.Evict, [_keys.Generation(tag)], [RandomGeneration()]), cancellationToken)
                .ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            _metrics.RedisError();
            Log.RedisEvictFailed(_logger, "tag", tag, e);
            return false;
        }
    }

    /// <summary>
    /// Tries to take the cross-instance fill lease of <paramref name="key"/> (<c>SET NX PX</c>). Returns true if taken,
    /// false if another instance holds it, null if Redis failed (logged; the caller runs the data call unprotected).
    /// </summary>
    public async ValueTask<bool?> TryAcquireLeaseAsync(string key, string token, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        try
        {
            IDatabase database = await GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            return await Bounded(database.StringSetAsync(_keys.Lease(key), token, lifetime, When.NotExists), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            _metrics.RedisError();
            Log.RedisWriteFailed(_logger, key, e);
            return null;
        }
    }

    /// <summary>Releases the lease if it is still ours (compare and delete); a failure leaves it to its TTL.</summary>
    public async ValueTask ReleaseLeaseAsync(string key, string token)
    {
        try
        {
            IDatabase database = await GetDatabaseAsync(CancellationToken.None).ConfigureAwait(false);
            await Bounded(database.ScriptEvaluateAsync(LuaScripts.ReleaseLease, [_keys.Lease(key)], [token]), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _metrics.RedisError();
            Log.RedisWriteFailed(_logger, key, e);
        }
    }

    /// <summary>Publishes a backplane message; a lost message is bounded by the in-process lifetime. Says whether it was sent.</summary>
    public async ValueTask<bool> PublishAsync(RedisValue message, CancellationToken cancellationToken)
    {
        try
        {
            ConnectionMultiplexer? connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
            if (connection is null)
                return false;
            await Bounded(connection.GetSubscriber().PublishAsync(_keys.EvictionChannel, message), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            _metrics.RedisError();
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

    public void Dispose()
    {
        // Still connecting: close the connection when it is made rather than block here.
        if (_connection.IsCompletedSuccessfully)
            _connection.Result?.Dispose();
        else
            _ = _connection.ContinueWith(static t => t.Result?.Dispose(), CancellationToken.None,
                TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection.IsCompletedSuccessfully && _connection.Result is { } connection)
            await connection.DisposeAsync().ConfigureAwait(false);
        else
            Dispose();
    }
}
