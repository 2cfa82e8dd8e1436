namespace CacheGen;

/// <summary>
/// Makes a <c>partial</c> method read through the cache: the generated body returns the cached value for the key,
/// or calls the method's core implementation, stores the result tagged with <see cref="Region"/> and returns it.
/// </summary>
/// <remarks>
/// The core implementation is a method of the same type with the same parameters and return type, named with
/// <c>Core</c> before a trailing <c>Async</c> (<c>GetAllAsync</c> -&gt; <c>GetAllCoreAsync</c>), else with <c>Core</c>
/// appended (<c>Count</c> -&gt; <c>CountCore</c>).
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class CachedAttribute : Attribute
{
    /// <summary>Caches the method's results in <paramref name="region"/>.</summary>
    /// <param name="region">The region (cache tag) the entries belong to; <see cref="InvalidatesCacheAttribute"/> evicts by it.</param>
    public CachedAttribute(string region) => Region = region;

    /// <summary>The region (cache tag) every entry of this method is stored under.</summary>
    public string Region { get; }

    /// <summary>
    /// Key template such as <c>"post:{id}"</c>; <c>{param}</c> and <c>{param.Member}</c> are checked at compile time,
    /// <c>{{</c> and <c>}}</c> are literal braces. Default: the type, the method, its parameter types and every argument.
    /// </summary>
    public string? Key { get; set; }

    /// <summary>Entry lifetime in seconds; 0 (the default) uses the runtime's default expiration.</summary>
    public int TtlSeconds { get; set; }

    /// <summary>
    /// Tag templates such as <c>"post:{id}"</c>, in the grammar of <see cref="Key"/>: each entry also carries these tags
    /// (within its region), and <see cref="InvalidatesCacheAttribute.Tags"/> with the same template evicts it.
    /// </summary>
    public string[]? Tags { get; set; }

    /// <summary>
    /// Fail-safe: when the core method throws (or times out, see <see cref="TimeoutMilliseconds"/>) and the entry expired
    /// less than this many seconds ago, return the expired value instead of the exception. Only expiry makes a value
    /// servable so: an evicted one never is. 0 (the default): off.
    /// </summary>
    public int StaleSeconds { get; set; }

    /// <summary>
    /// Soft timeout of the core method when an expired value is at hand (<see cref="StaleSeconds"/>): after this many
    /// milliseconds the caller gets that value, and the core method finishes in the background and stores its result.
    /// Without an expired value the caller waits. 0 (the default): no timeout.
    /// </summary>
    public int TimeoutMilliseconds { get; set; }

    /// <summary>Whether a null result is stored (the default); false: it is returned to every caller but not cached.</summary>
    public bool CacheNull { get; set; } = true;

    /// <summary>
    /// <c>nameof</c> a static method of this type, <c>bool Predicate(T result)</c>: a result it returns true for is
    /// returned to every caller but not cached.
    /// </summary>
    public string? Unless { get; set; }

    /// <summary>
    /// Shortens each stored entry's lifetime at random by up to this share (0 to 99), in Redis and in-process alike, so
    /// entries written together (after a deploy, a clear, a warm-up) do not expire together. 0 (the default): off.
    /// </summary>
    public int JitterPercent { get; set; }

    /// <summary>
    /// <c>nameof</c> a static method of this type, <c>TimeSpan M(T result)</c>: each entry lives as long as it says for
    /// its value (a token until it expires, say), shortened by <see cref="JitterPercent"/> if set; zero or less: the
    /// value is returned to every caller but not cached. Instead of <see cref="TtlSeconds"/>, not with it.
    /// </summary>
    public string? TtlFrom { get; set; }

    /// <summary>
    /// Refresh ahead of expiry (1 to 99): a hit on an entry older than this share of its own lifetime returns the value at
    /// once and starts one refresh of the entry in the background (one per key across instances), so callers of a busy
    /// key never wait for its data call. 0 (the default): off.
    /// </summary>
    public int RefreshAheadPercent { get; set; }
}
