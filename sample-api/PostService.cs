using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.SampleApi;

/// <summary>
/// The cached face of <see cref="PostStore"/>. CacheGen's generator writes the bodies of the partial methods: reads go
/// through the "posts" region, writes evict it (the Django original deleted its cache key in <c>save()</c> and
/// <c>delete()</c>). The <c>...Core</c> methods hold the real work.
/// </summary>
public sealed partial class PostService(PostStore store, HybridCache cache)
{
    /// <summary>
    /// The body of <c>GET /posts/</c>, serialized once per cached value rather than once per request: a hit hands the
    /// endpoint bytes to write, which is most of the speed-up on a list of 1000 posts.
    /// </summary>
    [Cached("posts")]
    public partial Task<JsonPayload> GetAllJsonAsync(CancellationToken ct = default);
    private async Task<JsonPayload> GetAllJsonCoreAsync(CancellationToken ct) =>
        JsonPayload.Serialize(new DjangoPostList(await store.ListAsync(ct)), CacheJsonContext.Default.DjangoPostList);

    [Cached("posts", Key = "post:{id}", TtlSeconds = 300)]
    public partial Task<Post?> GetAsync(int id, CancellationToken ct = default);
    private Task<Post?> GetCoreAsync(int id, CancellationToken ct) => store.FindAsync(id, ct);

    [InvalidatesCache("posts")]
    public partial Task<Post> CreateAsync(string title, string content, CancellationToken ct = default);
    private Task<Post> CreateCoreAsync(string title, string content, CancellationToken ct) => store.AddAsync(title, content, ct);

    [InvalidatesCache("posts")]
    public partial Task<Post?> UpdateAsync(int id, string title, string content, CancellationToken ct = default);
    private Task<Post?> UpdateCoreAsync(int id, string title, string content, CancellationToken ct) => store.UpdateAsync(id, title, content, ct);

    [InvalidatesCache("posts")]
    public partial Task<bool> DeleteAsync(int id, CancellationToken ct = default);
    private Task<bool> DeleteCoreAsync(int id, CancellationToken ct) => store.DeleteAsync(id, ct);

    // `addpost` goes through here too, so an API already serving a cached list picks up the new posts.
    [InvalidatesCache("posts")]
    public partial Task<int> AddManyAsync(int count, IProgress<int>? progress = null, CancellationToken ct = default);
    private Task<int> AddManyCoreAsync(int count, IProgress<int>? progress, CancellationToken ct) => store.AddManyAsync(count, progress, ct);
}
