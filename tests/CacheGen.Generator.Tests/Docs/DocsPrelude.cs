using System.ComponentModel;
using System.Text.Json.Serialization;
using CacheGen;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Hybrid;

// The app's own types that the docs' C# blocks take for granted (DocsCodeTests compiles the blocks against them).
// Add a type or member here only when a block uses it without declaring it; keep bodies trivial.
namespace CacheGen.Generator.Tests.Docs.Prelude;

[ImmutableObject(true)]
public sealed record Post(int Id, string Title, string Content = "", int Version = 1)
{
    public bool Draft { get; init; }
}

[ImmutableObject(true)]
public sealed record PostDto(int Id, string Title);

public sealed record PostDraft(string Title, string Content);

public sealed class PostStore
{
    public Task<IReadOnlyList<Post>> ListAsync(CancellationToken ct = default) => Task.FromResult<IReadOnlyList<Post>>([]);
    public Task<IReadOnlyList<Post>> ListPageAsync(int page, int size, CancellationToken ct = default) => Task.FromResult<IReadOnlyList<Post>>([]);
    public Task<IReadOnlyList<Post>> SearchAsync(string text, CancellationToken ct = default) => Task.FromResult<IReadOnlyList<Post>>([]);
    public Task<Post?> FindAsync(int id, CancellationToken ct = default) => Task.FromResult<Post?>(null);
    public Task<IReadOnlyDictionary<int, Post>> FindManyAsync(IReadOnlyCollection<int> ids, CancellationToken ct = default) =>
        Task.FromResult<IReadOnlyDictionary<int, Post>>(new Dictionary<int, Post>());
    public Task<Post> SaveAsync(Post post, CancellationToken ct = default) => Task.FromResult(post);
    public Task<Post> SaveAsync(PostDraft draft, CancellationToken ct = default) => Task.FromResult(new Post(0, draft.Title, draft.Content));
    public Task<int> CountAsync(CancellationToken ct = default) => Task.FromResult(0);
    public Task RefreshAsync(int id, CancellationToken ct = default) => Task.CompletedTask;
    public Task<Post?> UpdateAsync(int id, string title, string content, CancellationToken ct = default) => Task.FromResult<Post?>(null);
    public Task<bool> DeleteAsync(int id, CancellationToken ct = default) => Task.FromResult(false);
    public Task<int> ArchiveAsync(IReadOnlyList<int> ids, CancellationToken ct = default) => Task.FromResult(ids.Count);
}

/// <summary>The service the pages build up, for blocks that only call it (a block that declares its own hides this one).</summary>
public sealed class PostService(PostStore store)
{
    public async Task<JsonPayload> GetAllJsonAsync(CancellationToken ct = default) =>
        JsonPayload.Serialize(new DjangoPostList(await store.ListAsync(ct)), CacheJsonContext.Default.DjangoPostList);
}

/// <summary>Django REST framework's list shape, as the sample serves it.</summary>
[ImmutableObject(true)]
public sealed record DjangoPostList(IReadOnlyList<Post> Posts);

[JsonSerializable(typeof(IReadOnlyList<Post>))]
[JsonSerializable(typeof(Post))]
[JsonSerializable(typeof(DjangoPostList))]
public sealed partial class CacheJsonContext : JsonSerializerContext;

public sealed class BlogContext(DbContextOptions<BlogContext> options) : DbContext(options)
{
    public DbSet<Post> Posts => Set<Post>();
}

/// <summary>docs/diagnostics/CG0030.md's context, which its fixed example uses again.</summary>
public sealed class ShopContext(DbContextOptions<ShopContext> options) : DbContext(options)
{
    public DbSet<Book> Books => Set<Book>();
}

public sealed class Book
{
    public int Id { get; set; }
    public string Title { get; set; } = "";
}

/// <summary>docs/diagnostics/CG0070.md's service, which its fixed example registers again.</summary>
public sealed class BookService;

/// <summary>docs/freshness.md's and docs/diagnostics/CG0050-CG0053.md's values and the sources they come from.</summary>
[ImmutableObject(true)]
public sealed record Rates(string Currency, IReadOnlyDictionary<string, decimal> PerUnit);

public sealed class RateSource
{
    public Task<Rates> LoadAsync(string currency, CancellationToken ct = default) =>
        Task.FromResult(new Rates(currency, new Dictionary<string, decimal>()));
}

[ImmutableObject(true)]
public sealed record Token(string AccessToken, DateTimeOffset ExpiresAt);

public sealed class TokenIssuer
{
    public Task<Token> IssueAsync(string audience, CancellationToken ct = default) =>
        Task.FromResult(new Token(audience, DateTimeOffset.UtcNow.AddHours(1)));
}

[ImmutableObject(true)]
public sealed record Product(int Id, int CategoryId, decimal Price);

public sealed class Catalog
{
    public Task<Product?> FindAsync(int id, CancellationToken ct = default) => Task.FromResult<Product?>(null);
    public Task RepriceAsync(int categoryId, decimal factor, CancellationToken ct = default) => Task.CompletedTask;
    public Task<Product?> MoveAsync(int id, int categoryId, CancellationToken ct = default) => Task.FromResult<Product?>(null);
}

/// <summary>docs/decorators.md's vendor service and its decorator, which the registration blocks and CG0061-CG0064 use.</summary>
public interface IExchangeRates
{
    Task<decimal> GetRateAsync(string from, string to, CancellationToken ct = default);
    Task SetRateAsync(string from, string to, decimal rate, CancellationToken ct = default);
    Task<IReadOnlyList<string>> CurrenciesAsync(CancellationToken ct = default);
    event EventHandler<string>? RateChanged;
}

public sealed class HttpExchangeRates : IExchangeRates
{
    public event EventHandler<string>? RateChanged { add { } remove { } }
    public Task<decimal> GetRateAsync(string from, string to, CancellationToken ct = default) => Task.FromResult(1m);
    public Task SetRateAsync(string from, string to, decimal rate, CancellationToken ct = default) => Task.CompletedTask;
    public Task<IReadOnlyList<string>> CurrenciesAsync(CancellationToken ct = default) => Task.FromResult<IReadOnlyList<string>>([]);
}

[CacheDecorator(typeof(IExchangeRates))]
public sealed partial class CachedExchangeRates(IExchangeRates inner, HybridCache cache)
{
    [Cached("rates", Key = "{from}:{to}", TtlSeconds = 60)]
    public partial Task<decimal> GetRateAsync(string from, string to, CancellationToken ct = default);
}

public interface IRepository<T>
{
    Task<T?> FindAsync(int id);
}
