using System.Diagnostics;
using System.Diagnostics.Tracing;

namespace CacheGen.Infrastructure;

/// <summary>
/// What generated code reports when no logger is at hand: the event source <c>CacheGen</c> (dotnet-trace,
/// dotnet-monitor, an <see cref="EventListener"/>) and, as a warning, <see cref="Trace"/>.
/// </summary>
[EventSource(Name = "CacheGen")]
internal sealed class CacheGenEventSource : EventSource
{
    public static readonly CacheGenEventSource Log = new();

    /// <summary>The id of <see cref="FeaturesNotSupported"/>.</summary>
    public const int FeaturesNotSupportedId = 1;

    /// <summary>
    /// A cached method asks for features the HybridCache in use cannot honour (it is not CacheGen.Redis): the method
    /// reads through without them. Once per method.
    /// </summary>
    [Event(FeaturesNotSupportedId, Level = EventLevel.Warning,
        Message = "'{0}' asks for {1}, which {2} cannot honour: it reads through without them (use CacheGen.Redis's AddCacheGen for these)")]
    public void FeaturesNotSupported(string method, string features, string cache)
    {
        Trace.TraceWarning($"CacheGen: '{method}' asks for {features}, which {cache} cannot honour: it reads through without them (use CacheGen.Redis's AddCacheGen for these)");
        WriteEvent(FeaturesNotSupportedId, method, features, cache);
    }
}
