import forecast


def test_every_public_name_resolves():
    for name in forecast.__all__:
        assert getattr(forecast, name) is not None, name


def test_unknown_attribute_is_an_attribute_error():
    try:
        forecast.nope  # noqa: B018
    except AttributeError as error:
        assert "nope" in str(error)
    else:
        raise AssertionError("expected AttributeError")
