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
/// The data operations CacheGen sends to Redis: reads, the guarded write, evictions, leases and publishing. Each goes
/// through <see cref="RedisCallPolicy"/> (breaker, time bound, failure accounting); evictions Redis did not confirm go
/// to <see cref="EvictionRecovery"/>. Failures are reported as "no answer"; nothing but the caller's own cancellation
/// escapes.
/// </summary>
internal sealed class RedisStore : IAsyncDisposable, IDisposable
{
    private readonly RedisConnection _connection;
    private readonly RedisCallPolicy _policy;
    private readonly EvictionRecovery _recovery;
    private readonly RedisKeyLayout _keys;
    private readonly ILogger _logger;
    private readonly CacheMetrics _metrics;
    private int _crossSlotLogged;

    public RedisStore(CacheGenOptions options, RedisKeyLayout keys, ILogger logger, CacheMetrics metrics)
    {
        _keys = keys;
        _logger = logger;
        _metrics = metrics;
        _connection = new RedisConnection(options, keys, logger, metrics);
        _policy = new RedisCallPolicy(_connection, options, logger, metrics);
        _recovery = new EvictionRecovery(_policy, options, ReplayAsync, PingAsync, logger, metrics);
        _connection.Reconnected += _ => _recovery.Wake();
    }

    /// <summary>The connection, for the backplane's subscription and its connect/disconnect events.</summary>
    public RedisConnection Connection => _connection;

    /// <summary>Awaited for each eviction replayed in Redis (key or tag name, true for a tag), to tell other instances.</summary>
    public Func<string, bool, ValueTask>? EvictionReplayed
    {
        get => _recovery.EvictionReplayed;
        set => _recovery.EvictionReplayed = value;
    }

    public BreakerState BreakerState => _policy.BreakerState;

    public int PendingEvictionCount => _recovery.PendingCount;

    /// <summary>One round trip: the entry's bytes and its tags' current generations (created when missing).</summary>
    public async ValueTask<RedisRead> ReadAsync(string key, string[] tags, CancellationToken cancellationToken)
    {
        if (_recovery.MustSkip(key, tags))
            return RedisRead.Failed;
        CallResult<RedisRead> result = await _policy.RunAsync(CallKind.Read, key, (Store: this, Key: key, Tags: tags),
            static (database, s, token) => s.Store.SpansClusterSlots(database, s.Key, s.Tags) ? null : s.Store.ReadEntryAsync(database, s.Key, s.Tags),
            cancellationToken).ConfigureAwait(false);
        if (result.Status == CallStatus.WrongType)
            // A miss that is not written back (nothing guards the write); the next fill finds the key empty and fills it.
            await RepairWrongTypeAsync(_keys.EntryAndGenerations(key, tags), key).ConfigureAwait(false);
        return result.Answered ? result.Value : RedisRead.Failed;
    }

    private async Task<RedisRead> ReadEntryAsync(IDatabase database, string key, string[] tags)
    {
        if (tags.Length == 0)
        {
            RedisValue value = await database.StringGetAsync(_keys.Entry(key)).ConfigureAwait(false);
            return new RedisRead { Succeeded = true, Value = value.IsNull ? null : (byte[])value!, Generations = [] };
        }
        // One MGET: atomic like the script, and far cheaper for Redis to run. Only a missing generation (to be created,
        // or a non-string that MGET shows as nil) goes on to the script. An entry MGET shows as missing may be a
        // non-string too: the guarded write finds that out (WRONGTYPE) before it would overwrite it.
        RedisKey[] keys = _keys.EntryAndGenerations(key, tags);
        RedisValue[] values = await database.StringGetAsync(keys).ConfigureAwait(false);
        if (Array.FindIndex(values, 1, static v => v.IsNull) < 0)
            return new RedisRead { Succeeded = true, Value = values[0].IsNull ? null : (byte[])values[0]!, Generations = ParseGenerations(values) };
        RedisResult result = await database.ScriptEvaluateAsync(LuaScripts.Read, keys, RandomGenerations(tags.Length)).ConfigureAwait(false);
        var generations = new long[tags.Length];
        for (int i = 0; i < generations.Length; i++)
            generations[i] = long.Parse((string)result[i + 1]!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        RedisResult entry = result[0];
        return new RedisRead { Succeeded = true, Value = entry.IsNull ? null : (byte[])entry!, Generations = generations };
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
        if (_recovery.MustSkip(key, tags) || !_policy.Admit())
            return null;
        _recovery.NoteLifetime(expiration);
        var arguments = new RedisValue[4 + tags.Length];
        arguments[0] = envelope;
        arguments[1] = ToMilliseconds(expiration);
        arguments[2] = read.Value is null ? "0" : "1";
        arguments[3] = read.Value is null ? RedisValue.EmptyString : Envelope.StampOf(read.Value);
        for (int i = 0; i < tags.Length; i++)
            arguments[4 + i] = read.Generations[i];
        RedisKey[] keys = _keys.EntryAndGenerations(key, tags);
        CallResult<RedisResult> result = await _policy.RunAsync(CallKind.Write, key, (Keys: keys, Arguments: arguments),
            static (database, s, _) => database.ScriptEvaluateAsync(LuaScripts.GuardedSet, s.Keys, s.Arguments),
            cancellationToken).ConfigureAwait(false);
        if (result.Status == CallStatus.WrongType)
            await RepairWrongTypeAsync(keys, key).ConfigureAwait(false);
        return result.Answered ? (long)result.Value == 1 : null;
    }

    /// <summary>Returns the tags' current generations (creating missing ones), or null when Redis did not answer or must not be used.</summary>
    public async ValueTask<long[]?> GetGenerationsAsync(string key, string[] tags, CancellationToken cancellationToken)
    {
        if (_recovery.MustSkip(key, tags))
            return null;
        if (tags.Length == 0)
            return [];
        var keys = new RedisKey[tags.Length];
        for (int i = 0; i < tags.Length; i++)
            keys[i] = _keys.Generation(tags[i]);
        CallResult<RedisResult> result = await _policy.RunAsync(CallKind.Write, key, (Store: this, Key: key, Tags: tags, Keys: keys),
            static (database, s, _) => s.Store.SpansClusterSlots(database, s.Key, s.Tags)
                ? null
                : database.ScriptEvaluateAsync(LuaScripts.Generations, s.Keys, RandomGenerations(s.Tags.Length)),
            cancellationToken).ConfigureAwait(false);
        if (result.Status == CallStatus.WrongType)
            await RepairWrongTypeAsync(keys, key).ConfigureAwait(false);
        if (!result.Answered)
            return null;
        var generations = new long[tags.Length];
        for (int i = 0; i < generations.Length; i++)
            generations[i] = long.Parse((string)result.Value[i]!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return generations;
    }

    /// <summary>An unconditional write (SetAsync).</summary>
    public async ValueTask WriteAsync(string key, byte[] envelope, TimeSpan expiration, CancellationToken cancellationToken)
    {
        if (_recovery.MustSkip(key, []) || !_policy.Admit())
            return;
        _recovery.NoteLifetime(expiration);
        await _policy.RunAsync(CallKind.Write, key, (Key: _keys.Entry(key), Envelope: envelope, Expiration: expiration),
            static (database, s, _) => database.StringSetAsync(s.Key, s.Envelope, s.Expiration),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Single-entry eviction: a tombstone with a fresh stamp rather than DEL, so a reader that saw the old entry (or
    /// nothing) and is still computing fails its guarded write. Returns false if Redis did not confirm it; it is then
    /// pending (see <see cref="PendingEvictions"/>) and replayed when Redis answers.
    /// </summary>
    public ValueTask<bool> TombstoneAsync(string key, TimeSpan lifetime, CancellationToken cancellationToken) =>
        EvictAsync(new PendingEviction(IsTag: false, key, lifetime, 0), cancellationToken);

    /// <summary>Region eviction, O(1): bump the tag's generation; entries are left to expire. False (and pending) if not confirmed.</summary>
    public ValueTask<bool> EvictTagAsync(string tag, CancellationToken cancellationToken) =>
        EvictAsync(new PendingEviction(IsTag: true, tag, TimeSpan.Zero, 0), cancellationToken);

    private async ValueTask<bool> EvictAsync(PendingEviction eviction, CancellationToken cancellationToken)
    {
        CallResult<bool> result;
        try
        {
            result = await _policy.RunAsync(CallKind.Evict, eviction.Name, (Store: this, Eviction: eviction),
                static async (database, s, token) =>
                {
                    await s.Store.MakeEvictionAsync(database, s.Eviction, token).ConfigureAwait(false);
                    return true;
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The caller gave up, but the eviction may not have reached Redis: it is still owed.
            _recovery.Defer(eviction.IsTag, eviction.Name, eviction.Lifetime, null);
            throw;
        }
        if (result.Answered)
            return true;
        _recovery.Defer(eviction.IsTag, eviction.Name, eviction.Lifetime, result.Failure);
        return false;
    }

    /// <summary>One eviction in Redis, bypassing the breaker (the recovery loop's probe calls it too). Throws if not confirmed.</summary>
    private async Task MakeEvictionAsync(IDatabase database, PendingEviction eviction, CancellationToken cancellationToken)
    {
        if (!eviction.IsTag)
        {
            // SET replaces a value of any type, so a tombstone also repairs foreign data under the key.
            await _policy.BoundedAsync(database.StringSetAsync(_keys.Entry(eviction.Name), Envelope.CreateTombstone(), eviction.Lifetime), cancellationToken).ConfigureAwait(false);
            return;
        }
        RedisKey generation = _keys.Generation(eviction.Name);
        try
        {
            await _policy.BoundedAsync(database.ScriptEvaluateAsync(LuaScripts.Evict, [generation], [RandomGeneration()]), cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (RedisCallPolicy.IsWrongType(e))
        {
            // Deleting the foreign value is itself the eviction: the next read starts the generation at a random value.
            await RepairWrongTypeAsync([generation], eviction.Name).ConfigureAwait(false);
        }
    }

    private async Task ReplayAsync(PendingEviction eviction, CancellationToken cancellationToken)
    {
        IDatabase database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        await MakeEvictionAsync(database, eviction, cancellationToken).ConfigureAwait(false);
    }

    private async Task PingAsync(CancellationToken cancellationToken)
    {
        IDatabase database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        await _policy.BoundedAsync(database.PingAsync(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes non-string values under <paramref name="keys"/> after a WRONGTYPE reply: logged once, counted, repaired.</summary>
    private async ValueTask RepairWrongTypeAsync(RedisKey[] keys, string name)
    {
        _metrics.CorruptEntry(CorruptKinds.WrongType);
        Log.CorruptEntry(_logger, name, "a Redis value that is not a string (WRONGTYPE); the key was deleted");
        try
        {
            // Not admitted by the breaker: the recovery loop's probe repairs a generation key too.
            IDatabase database = await _connection.GetDatabaseAsync(CancellationToken.None).ConfigureAwait(false);
            await _policy.BoundedAsync(database.ScriptEvaluateAsync(LuaScripts.DeleteNonStrings, keys), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Left in place, it is found (and deleted) again on the next read.
            _policy.Failed(e);
            Log.RedisWriteFailed(_logger, name, e);
        }
    }

    /// <summary>
    /// Tries to take the cross-instance fill lease of <paramref name="key"/> (<c>SET NX PX</c>). Returns true if taken,
    /// false if another instance holds it, null if Redis failed (logged; the caller runs the data call unprotected).
    /// </summary>
    public async ValueTask<bool?> TryAcquireLeaseAsync(string key, string token, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        CallResult<bool> result = await _policy.RunAsync(CallKind.Write, key, (Lease: _keys.Lease(key), Token: token, Lifetime: lifetime),
            static (database, s, _) => database.StringSetAsync(s.Lease, s.Token, s.Lifetime, When.NotExists),
            cancellationToken).ConfigureAwait(false);
        return result.Answered ? result.Value : null;
    }

    /// <summary>Releases the lease if it is still ours (compare and delete); a failure leaves it to its TTL.</summary>
    public async ValueTask ReleaseLeaseAsync(string key, string token) =>
        await _policy.RunAsync(CallKind.Write, key, (Lease: _keys.Lease(key), Token: token),
            static (database, s, _) => database.ScriptEvaluateAsync(LuaScripts.ReleaseLease, [s.Lease], [s.Token]),
            CancellationToken.None).ConfigureAwait(false);

    /// <summary>Publishes a backplane message; a lost message is bounded by the in-process lifetime. Says whether it was sent.</summary>
    public async ValueTask<bool> PublishAsync(RedisValue message, CancellationToken cancellationToken)
    {
        CallResult<long> result = await _policy.RunAsync(CallKind.Publish, "", (Channel: _keys.EvictionChannel, Message: message),
            static (database, s, _) => database.Multiplexer.GetSubscriber().PublishAsync(s.Channel, s.Message),
            cancellationToken).ConfigureAwait(false);
        return result.Answered;
    }

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

    private static long RandomGeneration() => Random.Shared.NextInt64(1L << 52);

    private static RedisValue[] RandomGenerations(int count)
    {
        var values = new RedisValue[count];
        for (int i = 0; i < values.Length; i++)
            values[i] = RandomGeneration();
        return values;
    }

    private static long ToMilliseconds(TimeSpan span) => Math.Max(1, (long)Math.Ceiling(span.TotalMilliseconds));

    public void Dispose()
    {
        _recovery.Dispose();
        _connection.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        _recovery.Dispose();
        await _connection.DisposeAsync().ConfigureAwait(false);
    }
}
