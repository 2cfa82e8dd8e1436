using System.Text.Json;

namespace CacheGen.Redis;

/// <summary>
/// Options of the CacheGen runtime. Bound from the <c>CacheGen</c> configuration section (when an
/// <c>IConfiguration</c> is registered) and then from the delegate given to <c>AddCacheGen</c>.
/// </summary>
public sealed partial class CacheGenOptions
{
    /// <summary>The configuration section that <c>AddCacheGen</c> binds.</summary>
    public const string SectionName = "CacheGen";

    /// <summary>
    /// A StackExchange.Redis configuration string, such as <c>127.0.0.1:6379,defaultDatabase=1</c>. <see langword="null"/>
    /// (the default) runs on the in-process cache only.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>
    /// Prepended to every Redis key, like Django's <c>KEY_PREFIX</c>: <c>{KeyPrefix}:{KeyVersion}:{key}</c>. It must not
    /// contain <c>{</c> or <c>}</c>, which would move the Redis Cluster hash tag away from the region.
    /// </summary>
    public string KeyPrefix { get; set; } = "";

    /// <summary>The key version, like Django's <c>VERSION</c>; bump it to abandon every existing entry at once.</summary>
    public int KeyVersion { get; set; } = 1;

    /// <summary>The lifetime of an entry that does not set one (Django's <c>TIMEOUT</c>). Every Redis entry carries a TTL.</summary>
    public TimeSpan DefaultExpiration { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>
    /// The in-process (L1) lifetime of an entry when Redis is configured, capped by the entry's remaining lifetime (a
    /// copy read from Redis never outlives the entry). This
    /// bounds how long another instance can serve a value after an eviction whose pub/sub message was lost. Without
    /// Redis the in-process entry lives for the entry's expiration.
    /// </summary>
    public TimeSpan LocalCacheExpiration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// After a fail-safe method (<c>[Cached(StaleSeconds = ...)]</c>) served an expired value because its data call
    /// failed, how long that value is served as a hit before the data call is tried again: a failing database is not
    /// asked on every request. Never past the value's stale window.
    /// </summary>
    public TimeSpan FailSafeThrottle { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The bound on each Redis operation; after it the call falls through (a read is a miss, a write is skipped).</summary>
    public TimeSpan RedisTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long Redis may answer nothing at all, to any call, before a waiting call is given up as if it had timed out
    /// (a frozen or unreachable Redis answers nothing; a busy one keeps answering, so its calls wait up to
    /// <see cref="RedisTimeout"/>). Given-up calls count towards the circuit breaker, so concurrent ones open it at once.
    /// Keep it above the time one reply of your largest value takes to arrive, and above any quiet spell of a healthy
    /// Redis (an overloaded host). At or above <see cref="RedisTimeout"/>, only that bound applies.
    /// </summary>
    public TimeSpan RedisStallTimeout { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Circuit breaker: after this many Redis calls in a row failed or timed out, CacheGen stops calling Redis (every
    /// read is a miss, every write is skipped, at once, without waiting for <see cref="RedisTimeout"/>) until a probe
    /// in the background finds Redis answering again. One success resets the count.
    /// </summary>
    public int CircuitBreakerFailures { get; set; } = 5;

    /// <summary>
    /// Circuit breaker: how long it stays open before the background probe tries Redis again (and again after each
    /// failed probe). A connection the client reports as restored is probed at once.
    /// </summary>
    public TimeSpan CircuitBreakerDuration { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The most evictions (distinct keys and tags) that Redis could not confirm and that this instance remembers to
    /// replay when Redis answers again. While one is pending, Redis is not read for that key or tag here. Past this
    /// number further evictions cannot be remembered, so this instance stops reading Redis altogether until every entry
    /// that might have missed one has expired (the longest entry lifetime it knows). Also how many of its recent key
    /// evictions this instance remembers, to make them again after its Redis connection drops (a server restarted from
    /// an older snapshot has lost them); past it, the oldest are not made again.
    /// </summary>
    public int MaximumPendingEvictions { get; set; } = 10_000;

    /// <summary>
    /// The most entries the in-process cache holds; past it, expired entries and then arbitrary ones are dropped. Its
    /// tag table holds at most twice as many tags (at least 1,024); past that, the least recently used are dropped.
    /// </summary>
    public int MaximumLocalEntries { get; set; } = 100_000;

    /// <summary>
    /// The most bytes the in-process cache holds, counting each entry at the size of its serialized form (256 MiB by
    /// default); past it, expired entries and then arbitrary ones are dropped.
    /// </summary>
    public long MaximumLocalBytes { get; set; } = 256L << 20;

    /// <summary>
    /// The largest value, serialized, that is cached (1 MiB by default, like Microsoft's HybridCache). A larger value is
    /// still returned to the caller, just not cached (logged as a warning and counted); a larger entry found in Redis is
    /// a miss and is replaced.
    /// </summary>
    public int MaximumPayloadBytes { get; set; } = 1 << 20;

    /// <summary>
    /// Values whose serialized form is larger than this many bytes are stored in Redis compressed with LZ4 (8 KiB by
    /// default: below it a hit saves too little to notice; see docs/payloads.md). Entries stored either way read back
    /// on every instance, whatever its setting; the in-process cache always keeps the uncompressed form.
    /// <see cref="int.MaxValue"/> turns compression off. Only used when <see cref="Redis"/> is set.
    /// </summary>
    public int CompressAboveBytes { get; set; } = 8 << 10;

    /// <summary>
    /// Whether evictions are published on Redis pub/sub so that other instances drop their in-process copies at once
    /// (otherwise they expire within <see cref="LocalCacheExpiration"/>). Only used when <see cref="Redis"/> is set.
    /// </summary>
    public bool Backplane { get; set; } = true;

    /// <summary>
    /// Cross-instance stampede protection: on a miss, an instance takes a short lease in Redis (<c>SET NX PX</c> on a key
    /// in the entry's hash slot) before it runs the data call; other instances that miss the same key meanwhile wait for
    /// the value to appear in Redis instead of running the data call too. Off by default: it costs a round trip per miss.
    /// Only used when <see cref="Redis"/> is set.
    /// </summary>
    public bool DistributedStampedeProtection { get; set; }

    /// <summary>
    /// With <see cref="DistributedStampedeProtection"/>: the lease's lifetime, and the longest another instance waits
    /// for the lease holder's value before it runs the data call itself. A crashed holder delays others by at most this.
    /// </summary>
    public TimeSpan DistributedLockTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Adjusts the StackExchange.Redis configuration after <see cref="Redis"/> is parsed and before the connection is
    /// made: trust a private CA (<c>c.TrustIssuer("/etc/redis/ca.pem")</c>), present a client certificate
    /// (<c>c.SetUserPemCertificate(...)</c>), validate the server certificate yourself (<c>c.CertificateValidation</c>),
    /// or set a password that cannot be written in a configuration string (<c>c.Password</c>). It sees CacheGen's
    /// ACL-friendly defaults (no tie-breaker key, the configuration channel under the key prefix, no <c>CONFIG</c> in
    /// the command map) and may change them. CacheGen then sets <c>AbortOnConnectFail</c>, <c>BacklogPolicy</c>,
    /// <c>AsyncTimeout</c> and <c>SyncTimeout</c> itself (its outage behaviour depends on them). Code only: not bound
    /// from configuration.
    /// </summary>
    public Action<StackExchange.Redis.ConfigurationOptions>? ConfigureRedis { get; set; }

    /// <summary>
    /// The System.Text.Json options for values; <see langword="null"/> means <see cref="JsonSerializerDefaults.Web"/> with
    /// fields included (value tuples and field-only types keep their data). Options given here are used as they are; a
    /// type they cannot read back exactly is returned uncached, with one warning per type.
    /// Supply a <c>JsonSerializerContext</c> through <see cref="JsonSerializerOptions.TypeInfoResolver"/> for trimming and AOT.
    /// </summary>
    public JsonSerializerOptions? SerializerOptions { get; set; }

    /// <summary>Returns the first problem with these options, or <see langword="null"/> when they are usable.</summary>
    internal string? Validate()
    {
        if (KeyPrefix is null)
            return "CacheGen:KeyPrefix must not be null (use \"\" for no prefix).";
        if (KeyPrefix.AsSpan().IndexOfAny('{', '}') >= 0)
            return $"CacheGen:KeyPrefix '{KeyPrefix}' must not contain '{{' or '}}': the region's hash tag must be the first one in every key.";
        if (DefaultExpiration <= TimeSpan.Zero)
            return "CacheGen:DefaultExpiration must be positive.";
        if (LocalCacheExpiration < TimeSpan.Zero)
            return "CacheGen:LocalCacheExpiration must not be negative.";
        if (FailSafeThrottle < TimeSpan.Zero)
            return "CacheGen:FailSafeThrottle must not be negative.";
        if (RedisTimeout <= TimeSpan.Zero)
            return "CacheGen:RedisTimeout must be positive.";
        if (RedisStallTimeout <= TimeSpan.Zero)
            return "CacheGen:RedisStallTimeout must be positive.";
        if (CircuitBreakerFailures < 1)
            return "CacheGen:CircuitBreakerFailures must be at least 1.";
        if (CircuitBreakerDuration <= TimeSpan.Zero)
            return "CacheGen:CircuitBreakerDuration must be positive.";
        if (MaximumPendingEvictions < 1)
            return "CacheGen:MaximumPendingEvictions must be at least 1.";
        if (DistributedLockTimeout <= TimeSpan.Zero)
            return "CacheGen:DistributedLockTimeout must be positive.";
        if (MaximumLocalEntries < 1)
            return "CacheGen:MaximumLocalEntries must be at least 1.";
        if (MaximumLocalBytes < 1)
            return "CacheGen:MaximumLocalBytes must be at least 1.";
        if (MaximumPayloadBytes < 1)
            return "CacheGen:MaximumPayloadBytes must be at least 1.";
        if (CompressAboveBytes < 0)
            return "CacheGen:CompressAboveBytes must not be negative.";
        if (!string.IsNullOrWhiteSpace(Redis))
        {
            try
            {
                StackExchange.Redis.ConfigurationOptions.Parse(Redis);
            }
            catch (ArgumentException e)
            {
                // Parse quotes the offending keyword or value. A password with a comma in it splits into a "keyword"
                // that is part of the password, so when the string holds one, nothing it quotes is repeated.
                string problem = Redis.Contains("password", StringComparison.OrdinalIgnoreCase)
                    ? QuotedText().Replace(e.Message, "'***'")
                    : e.Message;
                return "CacheGen:Redis is not a valid StackExchange.Redis configuration string: " + problem;
            }
        }
        return null;
    }

    [System.Text.RegularExpressions.GeneratedRegex("'[^']*'")]
    private static partial System.Text.RegularExpressions.Regex QuotedText();
}
