using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Generator.Tests.Behaviour;

/// <summary>
/// Methods with freshness arguments, as a user would write them; this project's build generates the wrappers. Each
/// core returns <see cref="Next"/> and counts its calls, so a test sees what was stored.
/// </summary>
public sealed partial class RateBoard(HybridCache cache)
{
    private int _calls;

    /// <summary>What the next core call returns.</summary>
    public string Next { get; set; } = "v1";

    /// <summary>How often a [Cached] method's core ran.</summary>
    public int Calls => _calls;

    [Cached("fresh-rates", Key = "rate:{currency}", TtlSeconds = 100, JitterPercent = 50)]
    public partial Task<string> RateAsync(string currency);
    private Task<string> RateCoreAsync(string currency) => Produce();

    private Task<string> Produce()
    {
        Interlocked.Increment(ref _calls);
        return Task.FromResult(Next);
    }
}

/// <summary>
/// A method whose values carry their own lifetime, as a user would write it: each token is kept until it expires, and
/// one already expired is returned but not kept. The core counts its calls.
/// </summary>
public sealed partial class TokenDesk(HybridCache cache, TimeProvider clock)
{
    private int _calls;

    /// <summary>How long the next token issued is valid.</summary>
    public TimeSpan ValidFor { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a [Cached] method's core ran.</summary>
    public int Calls => _calls;

    /// <summary>The clock every token's expiry is compared with.</summary>
    public static TimeProvider Clock { get; set; } = TimeProvider.System;

    [Cached("fresh-tokens", Key = "token:{audience}", TtlFrom = nameof(LifetimeOf))]
    public partial Task<Token> TokenAsync(string audience);
    private Task<Token> TokenCoreAsync(string audience) =>
        Task.FromResult(new Token(audience + "#" + Interlocked.Increment(ref _calls), clock.GetUtcNow() + ValidFor));

    [Cached("fresh-tokens", Key = "sync:{audience}", TtlFrom = nameof(LifetimeOf))]
    public partial Token Token(string audience);
    private Token TokenCore(string audience) => new(audience + "#" + Interlocked.Increment(ref _calls), clock.GetUtcNow() + ValidFor);

    [UpdatesCache(nameof(TokenAsync))]
    public partial Task<Token> RotateAsync(string audience);
    private Task<Token> RotateCoreAsync(string audience) =>
        Task.FromResult(new Token(audience + "#" + Interlocked.Increment(ref _calls), clock.GetUtcNow() + ValidFor));

    private static TimeSpan LifetimeOf(Token token) => token.ExpiresAt - Clock.GetUtcNow();
}

/// <summary>A token valid until <see cref="ExpiresAt"/>.</summary>
[System.ComponentModel.ImmutableObject(true)]
public sealed record Token(string Value, DateTimeOffset ExpiresAt);

/// <summary>
/// Products tagged with their category from the result, as a user would write them: a reprice evicts the products in
/// that category and no other, and a move stores the product with its new category's tag. Prices and categories live in
/// <see cref="Rows"/>; the core counts its calls.
/// </summary>
public sealed partial class ProductShelf(HybridCache cache)
{
    private int _calls;

    /// <summary>The "database": id to (category, price); an id not there is not found.</summary>
    public Dictionary<int, (int Category, decimal Price)> Rows { get; } = [];

    /// <summary>How often a [Cached] method's core ran.</summary>
    public int Calls => _calls;

    /// <summary>When set, the next core call reads its row, then waits for it (to run a write while it is in flight).</summary>
    public TaskCompletionSource? Gate { get; set; }

    [Cached("fresh-products", Key = "product:{id}", Tags = ["product:{id}", "category:{result.CategoryId}"])]
    public partial Task<ShelfProduct?> GetAsync(int id);
    private async Task<ShelfProduct?> GetCoreAsync(int id)
    {
        Interlocked.Increment(ref _calls);
        ShelfProduct? product = Rows.TryGetValue(id, out var row) ? new ShelfProduct(id, row.Category, row.Price) : null;
        if (Gate is { } gate)
            await gate.Task;
        return product;
    }

    [InvalidatesCache(Tags = ["category:{category}"])]
    public partial Task RepriceAsync(int category, decimal price);
    private Task RepriceCoreAsync(int category, decimal price)
    {
        foreach (int id in Rows.Where(r => r.Value.Category == category).Select(r => r.Key).ToList())
            Rows[id] = (category, price);
        return Task.CompletedTask;
    }

    [UpdatesCache(nameof(GetAsync))]
    public partial Task<ShelfProduct?> MoveAsync(int id, int category);
    private Task<ShelfProduct?> MoveCoreAsync(int id, int category)
    {
        Rows[id] = (category, Rows[id].Price);
        return Task.FromResult<ShelfProduct?>(new ShelfProduct(id, category, Rows[id].Price));
    }
}

/// <summary>A product in a category.</summary>
[System.ComponentModel.ImmutableObject(true)]
public sealed record ShelfProduct(int Id, int CategoryId, decimal Price);
