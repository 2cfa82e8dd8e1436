namespace CacheGen.Redis;

/// <summary>The receiving side of the backplane: what an eviction from another instance does here.</summary>
internal interface IEvictionTarget
{
    void EvictLocalKey(string key);

    void EvictLocalTag(string tag);

    void ClearLocal();
}
