using CacheGen.AspNetCore;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CacheGen.SampleApi;

/// <summary>The <c>/posts</c> routes. Reads go through <see cref="PostService"/>'s cache, writes evict it.</summary>
internal static class PostEndpoints
{
    public static IEndpointRouteBuilder MapPosts(this IEndpointRouteBuilder routes)
    {
        RouteGroupBuilder posts = routes.MapGroup("/posts").WithTags("Posts");

        posts.MapGet("/", ListAsync)
            .WithName("ListPosts")
            .WithSummary("Every post, keyed post_{id}, in id order, one page of them with ?page=n, or the posts of ?ids=1,2,3 (cached in region \"posts\").")
            .ProducesValidationProblem()
            .Produces<Dictionary<string, Post>>(StatusCodes.Status200OK);
        posts.MapGet("/{id}", GetAsync)
            .WithName("GetPost")
            .ProducesProblem(StatusCodes.Status404NotFound);
        posts.MapPost("/", CreateAsync)
            .WithName("CreatePost");
        posts.MapPut("/{id}", UpdateAsync)
            .WithName("UpdatePost")
            .ProducesProblem(StatusCodes.Status404NotFound);
        posts.MapDelete("/{id}", DeleteAsync)
            .WithName("DeletePost")
            .ProducesProblem(StatusCodes.Status404NotFound);
        posts.MapGet("/{id}/related", RelatedAsync)
            .WithName("RelatedPosts")
            .WithSummary("Up to three posts related to this one, from IRelatedPosts through its generated caching decorator (region \"related\").")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    // The cached bytes go to the response as they are: no JSON is written on a hit. With an ETag from the payload's
    // hash (If-None-Match gets a 304) and a br/gzip copy compressed once per cached payload.
    private static async Task<Results<JsonPayloadHttpResult, ValidationProblem>> ListAsync(int? page, string? ids, PostService service, CancellationToken ct)
    {
        if (ids is not null)
            return page is null ? await ManyAsync(ids, service, ct) : Invalid("ids", "Ask for ids or for a page, not both.");
        if (page is < 1)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["page"] = [$"The page must be a positive integer (got {page})."] });
        JsonPayload list = page is { } number ? await service.GetPageJsonAsync(number, ct) : await service.GetAllJsonAsync(ct);
        return list.ToHttpResult();
    }

    /// <summary>The most ids one request may ask for: a bound on the query and on the response.</summary>
    public const int MaxBatchIds = 100;

    // GET /posts/?ids=1,2,3: the posts that exist, in id order, in the list's shape; through GetAsync's entries.
    private static async Task<Results<JsonPayloadHttpResult, ValidationProblem>> ManyAsync(string ids, PostService service, CancellationToken ct)
    {
        string[] parts = ids.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length > MaxBatchIds)
            return Invalid("ids", $"Ask for at most {MaxBatchIds} ids (got {parts.Length}).");
        var wanted = new List<int>(parts.Length);
        foreach (string part in parts)
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id) || id < 1)
                return Invalid("ids", $"Each id must be a positive integer, separated by commas (got '{part}').");
            wanted.Add(id);
        }
        IReadOnlyDictionary<int, Post> found = await service.GetManyAsync(wanted, ct);
        return JsonPayload.Serialize(new DjangoPostList([.. found.Values.OrderBy(p => p.Id)]), CacheJsonContext.Default.DjangoPostList).ToHttpResult();
    }

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });

    private static async Task<Results<Ok<Post>, ValidationProblem, ProblemHttpResult>> GetAsync(int id, PostService service, CancellationToken ct)
    {
        if (!IsValidId(id, out ValidationProblem? invalid))
            return invalid;
        return await service.GetAsync(id, ct) is { } post ? TypedResults.Ok(post) : NotFound(id);
    }

    private static async Task<Results<Created<Post>, ValidationProblem>> CreateAsync(PostInput? input, PostService service, CancellationToken ct)
    {
        if (!IsValidInput(input, out string title, out string content, out ValidationProblem? invalid))
            return invalid;
        Post post = await service.CreateAsync(title, content, ct);
        return TypedResults.Created($"/posts/{post.Id}", post);
    }

    private static async Task<Results<Ok<Post>, ValidationProblem, ProblemHttpResult>> UpdateAsync(int id, PostInput? input, PostService service, CancellationToken ct)
    {
        if (!IsValidId(id, out ValidationProblem? invalid) || !IsValidInput(input, out string title, out string content, out invalid))
            return invalid;
        return await service.UpdateAsync(id, title, content, ct) is { } post ? TypedResults.Ok(post) : NotFound(id);
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteAsync(int id, PostService service, CancellationToken ct)
    {
        if (!IsValidId(id, out ValidationProblem? invalid))
            return invalid;
        return await service.DeleteAsync(id, ct) ? TypedResults.NoContent() : NotFound(id);
    }

    private static async Task<Results<Ok<RelatedPostList>, ValidationProblem, ProblemHttpResult>> RelatedAsync(int id, PostService service,
        IRelatedPosts related, CancellationToken ct)
    {
        if (!IsValidId(id, out ValidationProblem? invalid))
            return invalid;
        if (await service.GetAsync(id, ct) is null)
            return NotFound(id);
        return TypedResults.Ok(new RelatedPostList(related.Source, await related.GetRelatedAsync(id, ct)));
    }

    // Ids come from SQLite's AUTOINCREMENT, so zero and negatives can never exist: refuse them before any lookup.
    private static bool IsValidId(int id, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out ValidationProblem? invalid)
    {
        invalid = id > 0 ? null : TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { ["id"] = [$"The id must be a positive integer (got {id})."] });
        return invalid is null;
    }

    private static bool IsValidInput(PostInput? input, out string title, out string content,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out ValidationProblem? invalid)
    {
        input ??= new PostInput(null, null); // an empty body or a JSON null: report both fields as missing
        invalid = input.TryValidate(out title, out content, out Dictionary<string, string[]> errors)
            ? null
            : TypedResults.ValidationProblem(errors);
        return invalid is null;
    }

    private static ProblemHttpResult NotFound(int id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Post not found", detail: $"There is no post with id {id}.");
}
