using System.ComponentModel;

namespace CacheGen.Infrastructure;

/// <summary>
/// A write-through in progress: the entry it will replace. An <see cref="IMethodCache"/> returns a subclass that
/// remembers what it saw of the entry when the write began. Generated code disposes it when the write is over.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public class CacheUpdate : IDisposable
{
    /// <summary>The entry of <paramref name="method"/> under <paramref name="key"/>, with its <paramref name="tags"/>.</summary>
    public CacheUpdate(CachedMethod method, string key, string[] tags)
    {
        Method = method;
        Key = key;
        Tags = tags;
    }

    /// <summary>The cached method whose entry is replaced.</summary>
    public CachedMethod Method { get; }

    /// <summary>The entry's key.</summary>
    public string Key { get; }

    /// <summary>The entry's tags (its region first).</summary>
    public string[] Tags { get; }

    /// <summary>Ends the update whether or not it completed (the write threw): the cache forgets it.</summary>
    public virtual void Dispose() => GC.SuppressFinalize(this);
}
