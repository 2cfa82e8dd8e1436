namespace CacheGen.Redis;

/// <summary>The failure log line a call writes; evictions log their own (they are deferred, not lost).</summary>
internal enum CallKind
{
    Read,
    Write,
    Evict,
    Publish,
}
