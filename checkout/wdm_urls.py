"""Routes of the checkout dialect: exactly seed 004's paths, no trailing slashes."""

from django.urls import path

from . import wdm

urlpatterns = [
    path("payment/create_user", wdm.CreateUser.as_view()),
    path("payment/batch_init/<str:n>/<str:money>", wdm.BatchInitUsers.as_view()),
    path("payment/find_user/<str:user_id>", wdm.FindUser.as_view()),
    path("payment/add_funds/<str:user_id>/<str:amount>", wdm.AddFunds.as_view()),
    path("payment/pay/<str:user_id>/<str:amount>", wdm.Pay.as_view()),
    path("stock/item/create/<str:price>", wdm.CreateItem.as_view()),
    path("stock/batch_init/<str:n>/<str:starting_stock>/<str:price>", wdm.BatchInitItems.as_view()),
    path("stock/find/<str:item_id>", wdm.FindItem.as_view()),
    path("stock/add/<str:item_id>/<str:amount>", wdm.AddStock.as_view()),
    path("stock/subtract/<str:item_id>/<str:amount>", wdm.SubtractStock.as_view()),
    path("orders/create/<str:user_id>", wdm.CreateOrder.as_view()),
    path("orders/batch_init/<str:n>/<str:n_items>/<str:n_users>/<str:item_price>", wdm.BatchInitOrders.as_view()),
    path("orders/find/<str:order_id>", wdm.FindOrder.as_view()),
    path("orders/addItem/<str:order_id>/<str:item_id>/<str:quantity>", wdm.AddItem.as_view()),
    path("orders/checkout/<str:order_id>", wdm.Checkout.as_view()),
]
