using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CacheGen.Redis;

/// <summary>
/// The data operations CacheGen sends to Redis: reads, the guarded write, evictions, leases and publishing. Each goes
/// through <see cref="RedisCallPolicy"/> (breaker, time bound, failure accounting); evictions Redis did not confirm go
/// to <see cref="EvictionRecovery"/>. Failures are reported as "no answer"; nothing but the caller's own cancellation
/// escapes.
/// </summary>
internal sealed partial class RedisStore : IAsyncDisposable, IDisposable
{
    private readonly RedisConnection _connection;
    private readonly RedisCallPolicy _policy;
    private readonly EvictionRecovery _recovery;
    private readonly RedisKeyLayout _keys;
    private readonly ILogger _logger;
    private readonly CacheMetrics _metrics;
    private readonly GenerationFloors _floors = new();
    private readonly PayloadCompression _compression;
    private readonly LegacyGenerations _legacy;
    private readonly TimeSpan _generationLifetime;
    private Func<RedisKey, int>? _slotOf;
    private int _crossSlotLogged;
    private readonly TimeSpan _timeout;
    // Whether the server runs Lua (see ProbeScriptingAsync): unknown until a probe gets an answer.
    private const int ScriptsUnknown = 0, ScriptsRun = 1, ScriptsRefused = 2;
    private int _scripting;
    private Task _probe;

    public RedisStore(CacheGenOptions options, RedisKeyLayout keys, ILogger logger, CacheMetrics metrics)
    {
        _keys = keys;
        _logger = logger;
        _metrics = metrics;
        _compression = new PayloadCompression(options.CompressAboveBytes, options.MaximumPayloadBytes);
        // A generation key a read or an eviction creates lives this long, unless an entry written under it extends it.
        _generationLifetime = options.DefaultExpiration;
        _legacy = new LegacyGenerations(keys, _generationLifetime);
        _timeout = options.RedisTimeout;
        _connection = new RedisConnection(options, keys, logger, metrics);
        _policy = new RedisCallPolicy(_connection, options, logger, metrics);
        _recovery = new EvictionRecovery(_policy, options, ReplayAsync, PingAsync, logger, metrics);
        _probe = ProbeScriptingAsync();
        _connection.Reconnected += type =>
        {
            // A server that did not answer the probe (down at start-up) is asked again once it is back.
            if (type == ConnectionType.Interactive && Volatile.Read(ref _scripting) == ScriptsUnknown && _probe.IsCompleted)
                _probe = ProbeScriptingAsync();
            _recovery.Wake();
        };
        // A server that restarts from an older snapshot may bring back what this instance tombstoned: the key evictions
        // it made lately are made again before those keys are read from Redis. (A pub/sub connection that drops alone
        // says nothing about the data.)
        _connection.Disconnected += type =>
        {
            if (type == ConnectionType.Interactive)
                _recovery.ConnectionLost();
        };
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

    /// <summary>True while lost evictions keep Redis unread (see <see cref="EvictionRecovery.IsBypassing"/>).</summary>
    public bool IsBypassingRedis => _recovery.IsBypassing;

    /// <summary>
    /// True once the server refused a Lua script (Garnet without <c>--lua true</c>, a server with scripting disabled, an
    /// ACL user without EVAL): every guarded step of CacheGen is a script, so entries then stay in-process only. Redis
    /// is neither read nor written for entries; evictions are confirmed at once (nothing of this cache is in Redis)
    /// and still reach the other instances through pub/sub.
    /// </summary>
    public bool ScriptingRefused => Volatile.Read(ref _scripting) == ScriptsRefused;

    /// <summary>
    /// Asks the server once it is connected to run a trivial script. A refusal is final for this connection's server
    /// and logged once; no answer (Redis down) leaves it unknown until the next reconnection.
    /// </summary>
    private async Task ProbeScriptingAsync()
    {
        try
        {
            ConnectionMultiplexer? connection = await _connection.WaitAsync().ConfigureAwait(false);
            if (connection is null)
                return;
            await _policy.BoundedAsync(connection.GetDatabase().ScriptEvaluateAsync("return 1"), CancellationToken.None).ConfigureAwait(false);
            Interlocked.CompareExchange(ref _scripting, ScriptsRun, ScriptsUnknown);
        }
        catch (RedisServerException e) when (!IsTransient(e.Message))
        {
            // "ERR This instance has Lua scripting support disabled" (Garnet), "ERR unknown command", "NOPERM" (ACL).
            if (Interlocked.CompareExchange(ref _scripting, ScriptsRefused, ScriptsUnknown) == ScriptsUnknown)
                Log.ScriptingRefused(_logger, e.Message);
        }
        catch (Exception)
        {
            // No answer: it says nothing about scripting.
        }
    }

    // Replies of a server that will run scripts in a moment (loading a snapshot, busy, failing over): not a refusal.
    private static bool IsTransient(string reply) =>
        reply.StartsWith("LOADING", StringComparison.Ordinal) || reply.StartsWith("BUSY", StringComparison.Ordinal)
        || reply.StartsWith("MASTERDOWN", StringComparison.Ordinal) || reply.StartsWith("TRYAGAIN", StringComparison.Ordinal)
        || reply.StartsWith("CLUSTERDOWN", StringComparison.Ordinal);

    /// <summary>
    /// Whether the server runs scripts. The first calls, made while the probe is still out, wait for its answer rather
    /// than fail on a script and miss what the probe is about to tell: first for the connection, as any call would (at
    /// most the Redis timeout), then for the probe on it. A connection still not made by then is <see cref="Scripts.Unreachable"/>:
    /// the call gives Redis up at once instead of waiting for the connection a second time in the policy.
    /// </summary>
    private async ValueTask<Scripts> ScriptsAsync()
    {
        int scripting = Volatile.Read(ref _scripting);
        if (scripting != ScriptsUnknown)
            return scripting == ScriptsRefused ? Scripts.Refused : Scripts.Run;
        Task probe = _probe;
        if (!probe.IsCompleted)
        {
            // An open breaker sends nothing, and so waits for nothing.
            if (!_policy.AllowsCalls)
                return Scripts.Unreachable;
            Task connecting = _connection.WaitAsync();
            if (!connecting.IsCompleted)
                await connecting.WaitAsync(_timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (!connecting.IsCompleted)
            {
                // Counted as the call's own wait for the connection would have been: a failure toward the breaker.
                _policy.Failed(new TimeoutException($"Redis was not connected within {(long)_timeout.TotalMilliseconds} ms."));
                return Scripts.Unreachable;
            }
            await probe.WaitAsync(_timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        return ScriptingRefused ? Scripts.Refused : Scripts.Run;
    }

    private enum Scripts
    {
        Run,
        Refused,
        Unreachable,
    }

    /// <summary>
    /// How long a PING took, or null if Redis did not answer within the Redis timeout. For the health check: it neither
    /// counts toward the breaker nor waits for it, so it says what Redis does now.
    /// </summary>
    public async ValueTask<TimeSpan?> PingRoundTripAsync(CancellationToken cancellationToken)
    {
        try
        {
            IDatabase database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            return await _policy.BoundedAsync(database.PingAsync(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>One round trip: the entry's bytes and its tags' current generations (created when missing).</summary>
    public async ValueTask<RedisRead> ReadAsync(string key, string[] tags, CancellationToken cancellationToken)
    {
        if (_recovery.MustSkip(key, tags) || await ScriptsAsync().ConfigureAwait(false) != Scripts.Run)
            return RedisRead.Failed;
        CallResult<RedisRead> result = await _policy.RunAsync(CallKind.Read, key, (Store: this, Key: key, Tags: tags),
            static (database, s, token) =>
            {
                // The entry's first tag is its region (generated code): its generation key of an earlier release expires.
                s.Store._legacy.TouchOnce(database, s.Tags[0]);
                return s.Store.KeysFor(database, s.Key, s.Tags) is { } keys ? s.Store.ReadEntryAsync(database, keys, s.Key) : null;
            },
            cancellationToken).ConfigureAwait(false);
        if (result.Status == CallStatus.WrongType)
            // A miss that is not written back (nothing guards the write); the next fill finds the key empty and fills it.
            await RepairWrongTypeAsync(key, tags).ConfigureAwait(false);
        return result.Answered ? result.Value : RedisRead.Failed;
    }

    // Every entry in Redis carries at least the clear epoch, so there is always a generation to read beside it.
    private async Task<RedisRead> ReadEntryAsync(IDatabase database, RedisKey[] keys, string key)
    {
        // One MGET: atomic like the script, and far cheaper for Redis to run. Only a generation that is missing (to be
        // created, or a non-string that MGET shows as nil), foreign (to be repaired) or behind one this instance has seen
        // (to be raised) goes on to the script. An entry MGET shows as missing may be a non-string too: the guarded write
        // finds that out (WRONGTYPE) before it would overwrite it.
        RedisValue[] values = await database.StringGetAsync(keys).ConfigureAwait(false);
        if (CurrentGenerations(keys, values) is { } current)
            return new RedisRead { Succeeded = true, Value = Readable(values[0]), Generations = current, Keys = keys };
        RedisResult result = await database.ScriptEvaluateAsync(LuaScripts.Read, keys,
            GenerationArguments(keys, _generationLifetime, extend: false)).ConfigureAwait(false);
        RedisResult[] items = (RedisResult[])result!;
        long[] generations = ScriptGenerations(keys, items, 1, key);
        RedisResult entry = items[0];
        return new RedisRead { Succeeded = true, Value = entry.IsNull ? null : _compression.ToReadable((byte[])entry!), Generations = generations, Keys = keys };
    }

    /// <summary>An entry's bytes as readers take them: decompressed when stored compressed (see <see cref="PayloadCompression"/>).</summary>
    private byte[]? Readable(RedisValue entry) => entry.IsNull ? null : _compression.ToReadable((byte[])entry!);

    /// <summary>
    /// The generations MGET read (values[1..]), if each is one of ours and none is behind what this instance has seen;
    /// otherwise null, and the script takes over.
    /// </summary>
    private long[]? CurrentGenerations(RedisKey[] keys, RedisValue[] values)
    {
        var generations = new long[values.Length - 1];
        for (int i = 0; i < generations.Length; i++)
        {
            if (!TryParseGeneration(values[i + 1], out generations[i]) || _floors.IsBehind(keys[i + 1], generations[i]))
                return null;
        }
        for (int i = 0; i < generations.Length; i++)
            _floors.Observe(keys[i + 1], generations[i]);
        return generations;
    }

    /// <summary>
    /// A generation as the scripts write it: "0" or 1 to 18 digits without a leading zero. Anything else (a sign, spaces,
    /// a fraction, too many digits, text) is foreign and gets repaired by the script.
    /// </summary>
    private static bool TryParseGeneration(RedisValue value, out long generation)
    {
        if (value.IsNull || !value.TryParse(out generation) || generation < 0 || generation >= 1_000_000_000_000_000_000)
        {
            generation = 0;
            return false;
        }
        long digits = 1;
        for (long rest = generation / 10; rest > 0; rest /= 10)
            digits++;
        return value.Length() == digits;
    }

    /// <summary>
    /// Reads the generations a Read or Generations script returned for the generation keys keys[1..] (items[first..],
    /// then the repaired and raised counts), records them as seen, and reports repairs and rollbacks.
    /// </summary>
    private long[] ScriptGenerations(RedisKey[] keys, RedisResult[] items, int first, string name)
    {
        var generations = new long[keys.Length - 1];
        for (int i = 0; i < generations.Length; i++)
        {
            generations[i] = long.Parse((string)items[first + i]!, NumberStyles.None, CultureInfo.InvariantCulture);
            _floors.Observe(keys[1 + i], generations[i]);
        }
        if ((long)items[first + generations.Length] > 0)
            ReportForeignGeneration(name);
        if ((long)items[first + generations.Length + 1] > 0)
            ReportRollback(name);
        return generations;
    }

    /// <summary>
    /// ARGV of the Read and Generations scripts for the generation keys keys[1..] (keys[0] is the entry): the lifetime
    /// of a key they create (and, with <paramref name="extend"/>, the least lifetime every key gets), a random start for
    /// each, and the floor this instance knows for each.
    /// </summary>
    private RedisValue[] GenerationArguments(RedisKey[] keys, TimeSpan lifetime, bool extend)
    {
        const int first = 1;
        int count = keys.Length - first;
        var arguments = new RedisValue[2 + 2 * count];
        arguments[0] = ToMilliseconds(lifetime);
        arguments[1] = extend ? "1" : "0";
        for (int i = 0; i < count; i++)
        {
            arguments[2 + i] = RandomGeneration();
            arguments[2 + count + i] = _floors.FloorOf(keys[first + i]);
        }
        return arguments;
    }

    /// <summary>Foreign bytes under a generation key, replaced by a fresh generation: logged once per repair, counted, not a failure.</summary>
    private void ReportForeignGeneration(string name)
    {
        _metrics.CorruptEntry(CorruptKinds.Generation);
        Log.CorruptEntry(_logger, name, "a generation key held something other than a generation; it was set to a fresh one, which evicts its tag");
    }

    private void ReportRollback(string name)
    {
        _metrics.CorruptEntry(CorruptKinds.Rollback);
        Log.GenerationRolledBack(_logger, name);
    }

    /// <summary>
    /// The entry key and its generation keys (<see cref="RedisKeyLayout.EntryAndGenerations"/>); the clear epoch is the
    /// one of the entry's hash slot on a cluster.
    /// </summary>
    private RedisKey[] KeysOf(IConnectionMultiplexer connection, string key, string[] tags)
    {
        // One connection per store: its slot function is made once, not on every read.
        Func<RedisKey, int>? slotOf = _slotOf;
        if (slotOf is null || !ReferenceEquals(slotOf.Target, connection))
            _slotOf = slotOf = connection.HashSlot;
        return _keys.EntryAndGenerations(key, tags, slotOf);
    }

    /// <summary>
    /// The stale-set guard: writes <paramref name="envelope"/> only if the entry key still holds what
    /// <paramref name="read"/> (one that succeeded) saw and every tag generation is unchanged. Returns true if it was
    /// written, false if the guard rejected it, null if Redis failed (logged) or was not called, or if the entry holds a
    /// value in a newer format (a newer runtime's, during a rolling deploy), which is never overwritten.
    /// </summary>
    public async ValueTask<bool?> GuardedWriteAsync(string key, string[] tags, RedisRead read, byte[] envelope, TimeSpan expiration,
        CancellationToken cancellationToken, bool callerWaits = true)
    {
        // An eviction that failed since the read: Redis may not have seen it, so nothing computed before it goes there.
        if (_recovery.MustSkip(key, tags) || ScriptingRefused || !_policy.Admit())
            return null;
        _recovery.NoteLifetime(expiration);
        var arguments = new RedisValue[3 + tags.Length];
        arguments[0] = _compression.ToStored(envelope);
        arguments[1] = ToMilliseconds(expiration);
        arguments[2] = read.Value is null ? RedisValue.EmptyString : Envelope.StampOf(read.Value);
        for (int i = 0; i < tags.Length; i++)
            arguments[3 + i] = read.Generations[i];
        // The keys the read built: made once per fill, not once per call.
        CallResult<RedisResult> result = await _policy.RunAsync(CallKind.Write, key, (Keys: read.Keys!, Arguments: arguments),
            static (database, s, _) => database.ScriptEvaluateAsync(LuaScripts.GuardedSet, s.Keys, s.Arguments),
            cancellationToken, callerWaits: callerWaits).ConfigureAwait(false);
        if (result.Status == CallStatus.WrongType)
            await RepairWrongTypeAsync(key, tags).ConfigureAwait(false);
        // 2: the entry holds a newer runtime's format, kept as it is; neither written nor a stale read.
        return result.Answered && (long)result.Value != KeptNewer ? (long)result.Value == 1 : null;
    }

    /// <summary>What the write scripts return when the entry holds a value in a newer format, which they keep.</summary>
    private const long KeptNewer = 2;

    /// <summary>
    /// Returns the tags' current generations (creating missing ones, repairing foreign ones, and making each live at
    /// least <paramref name="expiration"/>), or null when Redis did not answer or must not be used.
    /// </summary>
    public async ValueTask<long[]?> GetGenerationsAsync(string key, string[] tags, TimeSpan expiration, CancellationToken cancellationToken)
    {
        if (_recovery.MustSkip(key, tags) || await ScriptsAsync().ConfigureAwait(false) != Scripts.Run)
            return null;
        if (tags.Length == 0)
            return [];
        CallResult<long[]> result = await _policy.RunAsync(CallKind.Write, key, (Store: this, Key: key, Tags: tags, Expiration: expiration),
            static (database, s, _) => s.Store.KeysFor(database, s.Key, s.Tags) is { } keys
                ? s.Store.ReadGenerationsAsync(database, keys, s.Key, s.Expiration)
                : null,
            cancellationToken).ConfigureAwait(false);
        if (result.Status == CallStatus.WrongType)
            await RepairWrongTypeAsync(key, tags).ConfigureAwait(false);
        return result.Answered ? result.Value : null;
    }

    private async Task<long[]> ReadGenerationsAsync(IDatabase database, RedisKey[] keys, string key, TimeSpan expiration)
    {
        RedisResult result = await database.ScriptEvaluateAsync(LuaScripts.Generations, keys[1..],
            GenerationArguments(keys, expiration, extend: true)).ConfigureAwait(false);
        return ScriptGenerations(keys, (RedisResult[])result!, 0, key);
    }

    /// <summary>An unconditional write (SetAsync).</summary>
    public async ValueTask WriteAsync(string key, byte[] envelope, TimeSpan expiration, CancellationToken cancellationToken)
    {
        // Without scripts no read looks at Redis: an entry written there would only be a stale copy for later.
        if (_recovery.MustSkip(key, []) || ScriptingRefused || !_policy.Admit())
            return;
        _recovery.NoteLifetime(expiration);
        // A script rather than SET: a value in a newer format stays (see LuaScripts.Set).
        await _policy.RunAsync(CallKind.Write, key, (Key: _keys.Entry(key), Envelope: _compression.ToStored(envelope), Expiration: ToMilliseconds(expiration)),
            static (database, s, _) => database.ScriptEvaluateAsync(LuaScripts.Set, [s.Key], [s.Envelope, s.Expiration]),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Single-entry eviction: a tombstone with a fresh stamp rather than DEL, so a reader that saw the old entry (or
    /// nothing) and is still computing fails its guarded write. Returns false if Redis did not confirm it; it is then
    /// pending (see <see cref="PendingEvictions"/>) and replayed when Redis answers.
    /// </summary>
    public ValueTask<bool> TombstoneAsync(string key, TimeSpan lifetime, CancellationToken cancellationToken) =>
        EvictAsync(new PendingEviction(IsTag: false, key, lifetime, 0), cancellationToken);

    /// <summary>
    /// Region eviction, O(1): bump the tag's generation; entries are left to expire. False (and pending) if not confirmed.
    /// <see cref="AllTags"/> bumps the clear epoch: of the server, or of every hash slot of a cluster.
    /// </summary>
    public ValueTask<bool> EvictTagAsync(string tag, CancellationToken cancellationToken) =>
        EvictAsync(new PendingEviction(IsTag: true, tag, TimeSpan.Zero, 0), cancellationToken);

    /// <summary>The tag name that means every entry (<c>RemoveByTagAsync("*")</c>).</summary>
    public const string AllTags = "*";

    private async ValueTask<bool> EvictAsync(PendingEviction eviction, CancellationToken cancellationToken)
    {
        switch (await ScriptsAsync().ConfigureAwait(false))
        {
            case Scripts.Refused:
                // Without scripts nothing of this cache is in Redis: confirmed, so the other instances are told at once.
                return true;
            case Scripts.Unreachable:
                // Not connected yet: owed, and replayed once Redis answers, as a failed eviction is.
                _recovery.Defer(eviction.IsTag, eviction.Name, eviction.Lifetime, null);
                return false;
        }
        CallResult<bool> result;
        try
        {
            result = await _policy.RunAsync(CallKind.Evict, eviction.Name, (Store: this, Eviction: eviction),
                static async (database, s, token) =>
                {
                    await s.Store.MakeEvictionAsync(database, s.Eviction, token).ConfigureAwait(false);
                    return true;
                },
                cancellationToken, IsClear(eviction) ? ClearBound : null).ConfigureAwait(false);
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

    private static bool IsClear(PendingEviction eviction) => eviction.IsTag && eviction.Name == AllTags;

    /// <summary>A clear of a cluster moves 16,384 epochs, in batches, each batch bounded by the Redis timeout.</summary>
    private TimeSpan? ClearBound => _policy.Timeout * (ClusterSlots.Count / ClearBatch + 1);

    private const int ClearBatch = 1024;

    /// <summary>One eviction in Redis, bypassing the breaker (the recovery loop's probe calls it too). Throws if not confirmed.</summary>
    private async Task MakeEvictionAsync(IDatabase database, PendingEviction eviction, CancellationToken cancellationToken)
    {
        if (!eviction.IsTag)
        {
            // SET replaces a value of any type, so a tombstone also repairs foreign data under the key. The key's
            // generation reaches the entries of every shape of the key (RedisKeyLayout.ShapedEntry), whichever build wrote them.
            await Task.WhenAll(
                _policy.BoundedAsync(database.StringSetAsync(_keys.Entry(eviction.Name), Envelope.CreateTombstone(), eviction.Lifetime), cancellationToken),
                EvictGenerationAsync(database, _keys.KeyGeneration(eviction.Name), eviction.Name, cancellationToken)).ConfigureAwait(false);
            _recovery.KeyEvictionConfirmed(eviction.Name);
            return;
        }
        if (!IsClear(eviction))
        {
            await EvictGenerationAsync(database, _keys.Generation(eviction.Name), eviction.Name, cancellationToken).ConfigureAwait(false);
            return;
        }
        // Every entry carries the clear epoch of its slot: one key on a server, one per slot on a cluster.
        if (database.Multiplexer.HashSlot(_keys.Clear(-1)) < 0)
        {
            await EvictGenerationAsync(database, _keys.Clear(-1), AllTags, cancellationToken).ConfigureAwait(false);
            return;
        }
        for (int start = 0; start < ClusterSlots.Count; start += ClearBatch)
        {
            var batch = new Task[ClearBatch];
            for (int i = 0; i < batch.Length; i++)
                batch[i] = EvictGenerationAsync(database, _keys.Clear(start + i), AllTags, cancellationToken);
            await Task.WhenAll(batch).ConfigureAwait(false);
        }
    }

    /// <summary>Moves one generation on (<see cref="LuaScripts.Evict"/>), past any this instance has seen, and remembers it.</summary>
    private async Task EvictGenerationAsync(IDatabase database, RedisKey generation, string name, CancellationToken cancellationToken)
    {
        RedisResult result;
        try
        {
            result = await _policy.BoundedAsync(database.ScriptEvaluateAsync(LuaScripts.Evict, [generation],
                EvictArguments([generation])), cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (RedisCallPolicy.IsWrongType(e))
        {
            // Deleting the foreign value is itself the eviction: the next read starts the generation at a random value.
            await RepairWrongTypeAsync([generation], name).ConfigureAwait(false);
            return;
        }
        RedisResult[] items = (RedisResult[])result!;
        _floors.Observe(generation, long.Parse((string)items[0]!, NumberStyles.None, CultureInfo.InvariantCulture));
        if ((long)items[1] != 0)
            ReportForeignGeneration(name);
    }

    /// <summary>ARGV of <see cref="LuaScripts.Evict"/>: the lifetime of a generation it starts, a random start and the floor of each.</summary>
    private RedisValue[] EvictArguments(RedisKey[] generations)
    {
        var arguments = new RedisValue[1 + 2 * generations.Length];
        arguments[0] = ToMilliseconds(_generationLifetime);
        for (int i = 0; i < generations.Length; i++)
        {
            arguments[1 + i] = RandomGeneration();
            arguments[1 + generations.Length + i] = _floors.FloorOf(generations[i]);
        }
        return arguments;
    }

    private async Task ReplayAsync(PendingEviction eviction, CancellationToken cancellationToken)
    {
        if (ScriptingRefused)
            return;
        IDatabase database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        await MakeEvictionAsync(database, eviction, cancellationToken).ConfigureAwait(false);
    }

    private async Task PingAsync(CancellationToken cancellationToken)
    {
        IDatabase database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        await _policy.BoundedAsync(database.PingAsync(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>After a WRONGTYPE reply on an entry's keys: see <see cref="RepairWrongTypeAsync(RedisKey[], string)"/>.</summary>
    private async ValueTask RepairWrongTypeAsync(string key, string[] tags)
    {
        RedisKey[] keys;
        try
        {
            ConnectionMultiplexer? connection = await _connection.GetAsync(CancellationToken.None).ConfigureAwait(false);
            if (connection is null)
                return;
            keys = KeysOf(connection, key, tags);
        }
        catch (Exception e)
        {
            _policy.Failed(e);
            return;
        }
        await RepairWrongTypeAsync(keys, key).ConfigureAwait(false);
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
        // Without scripts there is no value in Redis to wait for, and no way to release a lease safely.
        if (ScriptingRefused)
            return null;
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
    /// The entry key and its generation keys (<see cref="KeysOf"/>), or null on a Redis Cluster when they fall in
    /// different hash slots: no script can touch them together (CROSSSLOT), so the entry stays out of Redis (in-process
    /// only) without counting as a Redis failure. Logged once per instance. On a single server there are no slots (-1).
    /// </summary>
    private RedisKey[]? KeysFor(IDatabase database, string key, string[] tags)
    {
        IConnectionMultiplexer connection = database.Multiplexer;
        RedisKey[] keys = KeysOf(connection, key, tags);
        int slot = connection.HashSlot(keys[0]);
        if (slot < 0)
            return keys;
        for (int i = 0; i < tags.Length; i++)
        {
            // The clear epoch is always in the entry's slot.
            if (!ReferenceEquals(tags[i], RedisKeyLayout.ClearTag) && connection.HashSlot(keys[i + 1]) != slot)
            {
                if (Interlocked.Exchange(ref _crossSlotLogged, 1) == 0)
                    Log.EntrySpansClusterSlots(_logger, key, string.Join(", ", tags.Where(t => !ReferenceEquals(t, RedisKeyLayout.ClearTag))));
                return null;
            }
        }
        return keys;
    }

    private static long RandomGeneration() => Random.Shared.NextInt64(1L << 52);

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
