using System.Collections.ObjectModel;

namespace CacheGen.Redis;

internal sealed class ReadOnlyCopier<TElement> : IReadOnlyCopier
{
    public bool Applies => ImmutableType<TElement>.Value;

    public object Copy(object source) => new ReadOnlyCollection<TElement>(((IEnumerable<TElement>)source).ToArray());
}
