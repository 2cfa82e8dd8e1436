using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.SampleApi;

/// <summary>
/// Posts related to a post: in a real app a remote recommendation service behind a client the app does not own
/// (an SDK, a Refit interface). The app caches it without changing it: see <see cref="CachedRelatedPosts"/>.
/// </summary>
public interface IRelatedPosts
{
    /// <summary>Up to three posts related to post <paramref name="id"/>, most related first.</summary>
    Task<IReadOnlyList<Post>> GetRelatedAsync(int id, CancellationToken ct = default);

    /// <summary>Where the recommendations come from, shown beside them.</summary>
    string Source { get; }
}

/// <summary>Stands in for the remote service: the posts nearest by id, from the whole list (one database query).</summary>
public sealed class NearbyRelatedPosts(PostStore store) : IRelatedPosts
{
    public string Source => "posts nearest by id";

    public async Task<IReadOnlyList<Post>> GetRelatedAsync(int id, CancellationToken ct = default)
    {
        IReadOnlyList<Post> posts = await store.ListAsync(ct);
        return posts.Where(p => p.Id != id).OrderBy(p => Math.Abs(p.Id - id)).ThenBy(p => p.Id).Take(3).ToArray();
    }
}

/// <summary>
/// The caching decorator of <see cref="IRelatedPosts"/>, registered with <c>AddCacheGenDecorator</c>. CacheGen
/// writes the rest: the interface implementation, <see cref="IRelatedPosts.Source"/> forwarded to <c>inner</c>, and
/// the call of <c>inner.GetRelatedAsync</c> on a miss. The entries carry the tag <c>lists</c>, so every write of
/// <see cref="PostService"/> that evicts the lists evicts them too.
/// </summary>
[CacheDecorator(typeof(IRelatedPosts))]
public sealed partial class CachedRelatedPosts(IRelatedPosts inner, HybridCache cache)
{
    [Cached("related", Key = "related:{id}", Tags = ["lists"], TtlSeconds = 300)]
    public partial Task<IReadOnlyList<Post>> GetRelatedAsync(int id, CancellationToken ct = default);
}

/// <summary>The body of <c>GET /posts/{id}/related</c>.</summary>
public sealed record RelatedPostList(string Source, IReadOnlyList<Post> Posts);
