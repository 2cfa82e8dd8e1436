namespace CacheGen.Redis;

internal interface IReadOnlyCopier
{
    bool Applies { get; }

    object Copy(object source);
}
