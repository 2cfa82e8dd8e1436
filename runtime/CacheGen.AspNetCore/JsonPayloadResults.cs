using Microsoft.AspNetCore.Http;

namespace CacheGen.AspNetCore;

/// <summary>A cached <see cref="JsonPayload"/> as an endpoint's result.</summary>
public static class JsonPayloadResults
{
    /// <summary>
    /// The payload as a response with an <c>ETag</c>, <c>304</c> revalidation and a compressed copy made once per payload
    /// (see <see cref="JsonPayloadHttpResult"/>).
    /// </summary>
    /// <example>
    /// <code>
    /// app.MapGet("/posts/", async (PostService posts, CancellationToken ct) =&gt; (await posts.GetAllJsonAsync(ct)).ToHttpResult());
    /// </code>
    /// </example>
    public static JsonPayloadHttpResult ToHttpResult(this JsonPayload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return new JsonPayloadHttpResult(payload);
    }
}
