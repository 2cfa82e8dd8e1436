using System.ComponentModel.DataAnnotations;

namespace CacheGen.SampleApi;

/// <summary>The body of <c>POST /posts/</c> and <c>PUT /posts/{id}</c>.</summary>
/// <remarks>Both members are nullable so a missing field is a validation error we word ourselves, not a binding failure.</remarks>
public sealed record PostInput(
    [property: Required, StringLength(PostInput.MaxTitleLength)] string? Title,
    [property: Required, StringLength(PostInput.MaxContentLength)] string? Content)
{
    public const int MaxTitleLength = 200;
    public const int MaxContentLength = 10_000;

    /// <summary>Checks the fields; on success returns them non-null.</summary>
    public bool TryValidate(out string title, out string content, out Dictionary<string, string[]> errors)
    {
        errors = [];
        title = Check(Title, "title", MaxTitleLength, errors);
        content = Check(Content, "content", MaxContentLength, errors);
        return errors.Count == 0;
    }

    private static string Check(string? value, string name, int maxLength, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
            errors[name] = [$"The {name} is required and must not be empty."];
        else if (value.Length > maxLength)
            errors[name] = [$"The {name} must be at most {maxLength} characters long (it has {value.Length})."];
        return value ?? "";
    }
}
