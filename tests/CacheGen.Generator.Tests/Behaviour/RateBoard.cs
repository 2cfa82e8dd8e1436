using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Generator.Tests.Behaviour;

/// <summary>
/// Methods with freshness arguments, as a user would write them; this project's build generates the wrappers. Each
/// core returns <see cref="Next"/> and counts its calls, so a test sees what was stored.
/// </summary>
public sealed partial class RateBoard(HybridCache cache)
{
    private int _calls;

    /// <summary>What the next core call returns.</summary>
    public string Next { get; set; } = "v1";

    /// <summary>How often a [Cached] method's core ran.</summary>
    public int Calls => _calls;

    [Cached("fresh-rates", Key = "rate:{currency}", TtlSeconds = 100, JitterPercent = 50)]
    public partial Task<string> RateAsync(string currency);
    private Task<string> RateCoreAsync(string currency) => Produce();

    private Task<string> Produce()
    {
        Interlocked.Increment(ref _calls);
        return Task.FromResult(Next);
    }
}
