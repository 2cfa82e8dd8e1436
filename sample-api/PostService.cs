using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.SampleApi;

/// <summary>
/// The cached face of <see cref="PostStore"/>. CacheGen's generator writes the bodies of the partial methods: reads go
/// through the "posts" region, and each write evicts what it changed (the Django original deleted its cache key in
/// <c>save()</c> and <c>delete()</c>): every list of posts carries the tag <c>lists</c>, each single post its own
/// <c>post:{id}</c>. So editing post 7 refreshes post 7 and the lists, while every other cached post stays a hit.
/// The <c>...Core</c> methods hold the real work.
/// </summary>
public sealed partial class PostService(PostStore store, HybridCache cache)
{
    /// <summary>Posts per page of <c>GET /posts/?page=n</c>.</summary>
    public const int PageSize = 20;

    /// <summary>
    /// The body of <c>GET /posts/</c>, serialized once per cached value rather than once per request: a hit hands the
    /// endpoint bytes to write, which is most of the speed-up on a list of 1000 posts.
    /// </summary>
    [Cached("posts", Tags = ["lists"])]
    public partial Task<JsonPayload> GetAllJsonAsync(CancellationToken ct = default);
    private async Task<JsonPayload> GetAllJsonCoreAsync(CancellationToken ct) =>
        JsonPayload.Serialize(new DjangoPostList(await store.ListAsync(ct)), CacheJsonContext.Default.DjangoPostList);

    /// <summary>The body of <c>GET /posts/?page=n</c>: <see cref="PageSize"/> posts in the same shape.</summary>
    [Cached("posts", Key = "page:{page}", Tags = ["lists"])]
    public partial Task<JsonPayload> GetPageJsonAsync(int page, CancellationToken ct = default);
    private async Task<JsonPayload> GetPageJsonCoreAsync(int page, CancellationToken ct) =>
        JsonPayload.Serialize(new DjangoPostList(await store.ListPageAsync(page, PageSize, ct)), CacheJsonContext.Default.DjangoPostList);

    [Cached("posts", Key = "post:{id}", Tags = ["post:{id}"], TtlSeconds = 300)]
    public partial Task<Post?> GetAsync(int id, CancellationToken ct = default);
    private Task<Post?> GetCoreAsync(int id, CancellationToken ct) => store.FindAsync(id, ct);

    /// <summary>
    /// The body of <c>GET /posts/?ids=1,2,3</c>: GetAsync's very entries, many at once. The ids found in the cache cost
    /// no query; the rest are read in one query, and each post found (or not) becomes GetAsync's entry for its id.
    /// </summary>
    [CachedBatch(nameof(GetAsync))]
    public partial Task<IReadOnlyDictionary<int, Post>> GetManyAsync(IReadOnlyCollection<int> ids, CancellationToken ct = default);
    private Task<IReadOnlyDictionary<int, Post>> GetManyCoreAsync(IReadOnlyCollection<int> ids, CancellationToken ct) => store.FindManyAsync(ids, ct);

    // A new post is in no cached single post: only the lists change.
    [InvalidatesCache(Tags = ["lists"])]
    public partial Task<Post> CreateAsync(string title, string content, CancellationToken ct = default);
    private Task<Post> CreateCoreAsync(string title, string content, CancellationToken ct) => store.AddAsync(title, content, ct);

    // Write-through: the updated post becomes GetAsync's entry for this id (guarded like a fill), and the lists go.
    [UpdatesCache(nameof(GetAsync))]
    [InvalidatesCache(Tags = ["lists"])]
    public partial Task<Post?> UpdateAsync(int id, string title, string content, CancellationToken ct = default);
    private Task<Post?> UpdateCoreAsync(int id, string title, string content, CancellationToken ct) => store.UpdateAsync(id, title, content, ct);

    // Typed eviction: exactly the entry GetAsync caches for this id, built by GetAsync's own key code.
    [InvalidatesCache(Method = nameof(GetAsync))]
    [InvalidatesCache(Tags = ["lists"])]
    public partial Task<bool> DeleteAsync(int id, CancellationToken ct = default);
    private Task<bool> DeleteCoreAsync(int id, CancellationToken ct) => store.DeleteAsync(id, ct);

    // `addpost` goes through here too, so an API already serving a cached list picks up the new posts.
    [InvalidatesCache(Tags = ["lists"])]
    public partial Task<int> AddManyAsync(int count, IProgress<int>? progress = null, CancellationToken ct = default);
    private Task<int> AddManyCoreAsync(int count, IProgress<int>? progress, CancellationToken ct) => store.AddManyAsync(count, progress, ct);
}
