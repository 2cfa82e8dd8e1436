using CacheGen.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The options that can be written in configuration; the binding generator binds it without reflection. Every plain
/// option of <see cref="CacheGenOptions"/> has a twin here (OptionsTests finds them by reflection, so a new option that
/// is left out fails a test instead of being silently ignored in configuration).
/// </summary>
internal sealed class CacheGenSettings
{
    public string? Redis { get; set; }
    public string? KeyPrefix { get; set; }
    public int? KeyVersion { get; set; }
    public TimeSpan? DefaultExpiration { get; set; }
    public TimeSpan? LocalCacheExpiration { get; set; }
    public TimeSpan? FailSafeThrottle { get; set; }
    public TimeSpan? RedisTimeout { get; set; }
    public TimeSpan? RedisStallTimeout { get; set; }
    public int? CircuitBreakerFailures { get; set; }
    public TimeSpan? CircuitBreakerDuration { get; set; }
    public int? MaximumPendingEvictions { get; set; }
    public int? MaximumLocalEntries { get; set; }
    public long? MaximumLocalBytes { get; set; }
    public int? MaximumPayloadBytes { get; set; }
    public int? CompressAboveBytes { get; set; }
    public bool? Backplane { get; set; }
    public bool? DistributedStampedeProtection { get; set; }
    public TimeSpan? DistributedLockTimeout { get; set; }
}
