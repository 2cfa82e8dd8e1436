using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Generator.Tests.Behaviour;

/// <summary>
/// A method refreshed ahead of its expiry, as a user would write it; this project's build generates the wrapper. The
/// core returns <see cref="Next"/> and counts its calls.
/// </summary>
public sealed partial class RateTicker(HybridCache cache)
{
    private int _calls;

    /// <summary>What the next core call returns.</summary>
    public string Next { get; set; } = "v1";

    /// <summary>How often the core ran.</summary>
    public int Calls => Volatile.Read(ref _calls);

    [Cached("ticker", Key = "tick:{currency}", TtlSeconds = 100, RefreshAheadPercent = 80)]
    public partial Task<string> RateAsync(string currency);

    private Task<string> RateCoreAsync(string currency)
    {
        Interlocked.Increment(ref _calls);
        return Task.FromResult(Next);
    }
}
